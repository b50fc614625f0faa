"""The OpenAPI 3 document of `/api/v1`, written out as data.

tests/test_api_v1_openapi.py checks that its paths and methods are exactly the routes the
app registers under `/api/v1`, and the schemathesis test checks the responses against it.
"""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _nullable(type_: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "nullable": True, **extra}


def _errors(*statuses: int) -> dict[str, Any]:
    descriptions = {
        400: "ข้อมูลที่ส่งมาไม่ถูกต้อง (invalid input)",
        401: "ไม่มีโทเค็น หรือโทเค็นไม่ถูกต้องหรือถูกยกเลิก (missing, invalid or revoked token)",
        403: "บทบาทหรือหน่วยงานของผู้ใช้ทำรายการนี้ไม่ได้ (role or organization not allowed)",
        404: "ไม่พบรายการ หรือรายการเป็นของหน่วยงานอื่น (not found)",
        409: "สถานะของรายการไม่อนุญาตให้ทำรายการนี้ (state conflict)",
        413: "ไฟล์ใหญ่เกินกำหนด (request too large)",
    }
    return {str(status): _json(_ref("Error"), descriptions[status]) for status in statuses}


def _body(properties: dict[str, Any], required: list[str] | None = None, is_required: bool = True,
          example: dict[str, Any] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"required": is_required, "content": {"application/json": media}}


def _id(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}


READ_ERRORS = (400, 401, 403, 404)
WRITE_ERRORS = (400, 401, 403, 404, 409)
TEXT = {"type": "string"}
DELEGATION = {"type": "integer", "minimum": 1, "maximum": 2147483647,
              "description": "คำสั่งมอบอำนาจที่ใช้ลงนาม (delegation id); ไม่ระบุ = ลงนามในฐานะของตนเอง"}
NOTE = {"type": "string", "maxLength": 2000}
IDEMPOTENCY_KEY = {"type": "string", "minLength": 1, "maxLength": 100,
                   "description": "รหัสป้องกันการทำรายการซ้ำ ส่งค่าเดิมเมื่อส่งคำขอเดิมซ้ำ (idempotency key)"}
TASK_ID = _id("task_id", "เลขที่งาน (routing task id)")
PAGE = {"name": "page", "in": "query", "required": False,
        "description": "เลขหน้า เริ่มที่ 1; เลขหน้าเกินหน้าสุดท้ายได้หน้าสุดท้าย (page number; past the end gives the last page)",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100000}}
REQUEST_ID = _id("request_id", "เลขที่คำขอในบัญชีคาร์บอนเครดิต (ledger request id)")

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "stable snake_case error code"},
                    "message": {"type": "string", "description": "ข้อความภาษาไทยสำหรับผู้ใช้"},
                },
            }
        },
    },
    "JobStatus": {
        "type": "object",
        "required": ["job_id", "document_id", "status", "pages_done"],
        "properties": {
            "job_id": TEXT,
            "document_id": {"type": "integer"},
            "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
            "pages_done": {"type": "integer"},
            "pages_total": _nullable("integer"),
            "error": {"type": "object", "properties": {"code": TEXT, "message": TEXT}},
        },
    },
    "DocumentRow": {
        "type": "object",
        "required": ["document_id", "file", "sha256", "status", "uploaded_at"],
        "properties": {
            "document_id": {"type": "integer"},
            "file": TEXT,
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "status": _nullable("string"),
            "uploaded_at": {"type": "string", "format": "date-time"},
        },
    },
    "DocumentPage": {
        "type": "object",
        "required": ["page", "pages", "total", "documents"],
        "properties": {
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
            "total": {"type": "integer"},
            "documents": {"type": "array", "items": _ref("DocumentRow")},
        },
    },
    "UploadResults": {
        "type": "object",
        "required": ["results"],
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": TEXT,
                        "document_id": {"type": "integer"},
                        "created": {"type": "boolean"},
                        "sha256": TEXT,
                        "job": _ref("JobStatus"),
                        "error": {"type": "object", "properties": {"code": TEXT, "message": TEXT}},
                    },
                },
            }
        },
    },
    "ParseResult": {
        "type": "object",
        "description": "ผลการอ่านเอกสารตามรูปแบบ docs/letter-json.md พร้อม document_id และ status",
        "required": ["schema", "file", "sha256", "document_id", "status"],
        "properties": {
            "schema": TEXT,
            "file": TEXT,
            "sha256": TEXT,
            "document_id": {"type": "integer"},
            "status": _nullable("string"),
            "pages": _nullable("integer"),
            "text_source": _nullable("string"),
            "letters": {"type": "array", "items": {
                "type": "object", "description": "LETTER ตาม docs/letter-json.md พร้อม letter_id "
                "(ใช้เป็น source_letter_id เมื่อลงรับผ่าน /api/v1/routing/receipts) และ field_ids "
                "(เลขที่ของแต่ละช่องตามชื่อช่อง ใช้กับ /api/v1/fields/{field_id}/correction)",
                "properties": {"letter_id": {"type": "integer"},
                               "field_ids": {"type": "object", "additionalProperties": {"type": "integer"}}}}},
            "warnings": {"type": "array", "items": {"type": "object"}},
            "error": {"type": "object"},
        },
    },
    "Correction": {
        "type": "object",
        "required": ["field_id", "name", "corrected_by", "corrected_at"],
        "properties": {
            "field_id": {"type": "integer"},
            "name": TEXT,
            "value": {"nullable": True},
            "previous_value": {"nullable": True},
            "parsed_value": {"nullable": True},
            "corrected_by": TEXT,
            "corrected_at": {"type": "string", "format": "date-time"},
        },
    },
    "Organization": {
        "type": "object",
        "nullable": True,
        "required": ["code", "name_th", "kind"],
        "properties": {"code": TEXT, "name_th": TEXT, "kind": TEXT},
    },
    "OfficialLetter": {
        "type": "object",
        "required": ["letter_id", "subject"],
        "properties": {
            "letter_id": {"type": "integer"},
            "doc_number": _nullable("string"),
            "is_circular": {"type": "boolean"},
            "letter_date": _nullable("string", format="date"),
            "subject": TEXT,
            "urgency": _nullable("string"),
            "issuer_name": _nullable("string"),
            "issuer": _ref("Organization"),
            "parent_letter_id": _nullable("integer"),
            "due_nominal": _nullable("string", format="date"),
            "due_effective": _nullable("string", format="date"),
            "due_text": _nullable("string"),
            "confirmation_form": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Task": {
        "type": "object",
        "required": ["task_id", "letter", "sender", "recipient", "state", "state_th"],
        "properties": {
            "task_id": {"type": "integer"},
            "letter": _ref("OfficialLetter"),
            "sender": _ref("Organization"),
            "recipient": _ref("Organization"),
            "due_nominal": _nullable("string", format="date"),
            "due_effective": _nullable("string", format="date"),
            "state": TEXT,
            "state_th": TEXT,
            "overdue_marked": {"type": "boolean"},
            "receipt_number": _nullable("integer"),
            "received_on": _nullable("string"),
            "assignee_id": _nullable("integer"),
            "confirmation": {"type": "object", "nullable": True},
        },
    },
    "TaskPage": {
        "type": "object",
        "required": ["page", "pages", "total", "tasks"],
        "properties": {
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
            "total": {"type": "integer"},
            "tasks": {"type": "array", "items": _ref("Task")},
        },
    },
    "Receipt": {
        "type": "object",
        "required": ["receipt_id", "number", "number_th", "year", "received_at", "channel"],
        "properties": {
            "receipt_id": {"type": "integer"},
            "number": {"type": "integer"},
            "number_th": {"type": "string", "description": "เลขรับ/ปี พ.ศ. เช่น 125/2568"},
            "year": {"type": "integer"},
            "received_at": {"type": "string", "format": "date-time"},
            "channel": TEXT,
            "sender_text": _nullable("string"),
            "remarks": _nullable("string"),
            "warnings": {"type": "array", "items": {"type": "object"}},
        },
    },
    "TaskResult": {
        "type": "object",
        "required": ["task"],
        "properties": {
            "task": _ref("Task"),
            "receipt": _ref("Receipt"),
            "created": {"type": "boolean"},
            "issued_letter": _ref("OfficialLetter"),
            "task_count": {"type": "integer"},
            "covering_letter_written": {"type": "boolean"},
            "counts": {"type": "object"},
        },
    },
    "TaskDetail": {
        "type": "object",
        "required": ["task", "receipt", "endorsements", "events"],
        "properties": {
            "task": _ref("Task"),
            "receipt": {"allOf": [_ref("Receipt")], "nullable": True},
            "endorsements": {"type": "array", "items": {"type": "object"}},
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kind", "occurred_at"],
                    "properties": {"kind": TEXT, "occurred_at": TEXT, "actor_id": _nullable("integer"),
                                   "data": {"type": "object"}},
                },
            },
        },
    },
    "Counts": {
        "type": "object",
        "required": ["recipients", "confirmed", "overdue"],
        "properties": {"recipients": {"type": "integer"}, "confirmed": {"type": "integer"},
                       "overdue": {"type": "integer"}},
    },
    "Rollup": {
        "type": "object",
        "required": ["recipients", "confirmed", "overdue", "by_province", "by_district"],
        "properties": {
            "doc_number": _nullable("string"),
            "recipients": {"type": "integer"},
            "confirmed": {"type": "integer"},
            "overdue": {"type": "integer"},
            "by_province": {"type": "object", "additionalProperties": _ref("Counts")},
            "by_district": {"type": "object", "additionalProperties": _ref("Counts")},
        },
    },
    "LedgerBalances": {
        "type": "object",
        "required": ["total_issued", "total_held", "total_retired", "total_cancelled", "accounts"],
        "properties": {
            "total_issued": {"type": "integer"},
            "total_held": {"type": "integer"},
            "total_retired": {"type": "integer"},
            "total_cancelled": {"type": "integer"},
            "accounts": {
                "type": "array",
                "items": {"type": "object", "required": ["account", "owner", "balance"],
                          "properties": {"account": TEXT, "owner": TEXT, "balance": {"type": "integer"}}},
            },
        },
    },
    "LedgerAccount": {
        "type": "object",
        "required": ["account", "name_th", "buckets", "income_satang", "reservations"],
        "properties": {
            "account": TEXT,
            "name_th": TEXT,
            "buckets": {"type": "object", "additionalProperties": {"type": "integer"}},
            "income_satang": {"type": "integer"},
            "reservations": {"type": "array", "items": {
                "type": "object", "required": ["reservation_id", "quantity", "account"],
                "properties": {"reservation_id": {"type": "integer"}, "quantity": {"type": "integer"},
                               "account": {"type": "string"}}}},
        },
    },
    "Statement": {
        "type": "object",
        "required": ["account", "entries"],
        "properties": {
            "account": TEXT,
            "entries": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["transaction", "kind", "posted_at", "unit", "amount", "balance"],
                    "properties": {"transaction": {"type": "integer"}, "kind": TEXT, "posted_at": TEXT,
                                   "letter_reference": _nullable("string"), "unit": TEXT,
                                   "bucket": _nullable("string"), "amount": {"type": "integer"},
                                   "balance": {"type": "integer"}},
                },
            },
        },
    },
    "LedgerRequest": {
        "type": "object",
        "required": ["request_id", "kind", "status", "status_th", "letter_reference", "payload"],
        "properties": {
            "request_id": {"type": "integer"},
            "kind": TEXT,
            "status": TEXT,
            "status_th": TEXT,
            "organization": _nullable("string"),
            "needs_dla_confirmation": {"type": "boolean"},
            "letter_reference": TEXT,
            "payload": {"type": "object"},
            "prepared_at": _nullable("string"),
            "expires_at": _nullable("string"),
            "approved_at": _nullable("string"),
            "confirmed_at": _nullable("string"),
            "voided_at": _nullable("string"),
            "void_reason": _nullable("string"),
        },
    },
    "LedgerRequestResult": {
        "type": "object",
        "required": ["request"],
        "properties": {"request": _ref("LedgerRequest"), "transaction_id": _nullable("integer")},
    },
    "EcmsImport": {
        "type": "object",
        "required": ["result", "letter", "created", "receipt_number", "notifier"],
        "properties": {
            "result": _ref("ParseResult"),
            "letter": {"type": "object", "description": "LETTER ตาม docs/letter-json.md"},
            "created": {"type": "boolean"},
            "receipt_number": _nullable("string"),
            "notifier": {"type": "string", "description": "AcceptLetterNotifier (XML) ที่ตอบกลับระบบผู้ส่ง"},
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/openapi.json": {
        "get": {
            "summary": "เอกสาร OpenAPI นี้ (this document)",
            "operationId": "openapiDocument",
            "security": [],
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3 document")},
        }
    },
    "/api/v1/documents": {
        "get": {
            "summary": "รายการเอกสารที่ผู้ใช้เห็นได้ ทีละ 50 รายการ (documents, 50 a page)",
            "operationId": "listDocuments",
            "parameters": [PAGE],
            "responses": {"200": _json(_ref("DocumentPage"), "one page of documents"), **_errors(*READ_ERRORS)},
        },
        "post": {
            "summary": "อัปโหลดไฟล์หนังสือ (PDF ข้อความ หรือภาพ) แล้วเข้าคิวอ่าน (upload files and queue their parse)",
            "operationId": "uploadDocuments",
            "requestBody": {
                "required": True,
                "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["files"],
                    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                }}},
            },
            "responses": {"202": _json(_ref("UploadResults"), "at least one file was stored"),
                          **_errors(400, 401, 403, 413)},
        },
    },
    "/api/v1/documents/{document_id}": {
        "get": {
            "summary": "ผลการอ่านเอกสาร (the parse result)",
            "operationId": "getDocument",
            "parameters": [_id("document_id", "เลขที่เอกสาร")],
            "responses": {"200": _json(_ref("ParseResult"), "the parse result"), **_errors(*READ_ERRORS)},
        }
    },
    "/api/v1/documents/{document_id}/retry": {
        "post": {
            "summary": "สั่งอ่านเอกสารที่อ่านไม่สำเร็จหรือหมดเวลาอีกครั้ง (queue a failed or timed-out parse again)",
            "description": "เฉพาะผู้อัปโหลด หรือเจ้าหน้าที่สารบรรณและหัวหน้างานของหน่วยงานเจ้าของเอกสาร; "
                           "งานล่าสุดที่ไม่ได้อยู่ในสถานะ failed ตอบ 409 รหัส job_not_failed",
            "operationId": "retryParse",
            "parameters": [_id("document_id", "เลขที่เอกสาร")],
            "responses": {"202": _json({"type": "object", "required": ["document_id", "job"],
                                        "properties": {"document_id": {"type": "integer"},
                                                       "job": _ref("JobStatus")}},
                                       "a new parse job was queued"),
                          **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/jobs/{job_id}": {
        "get": {
            "summary": "สถานะงานอ่านเอกสาร (parse job status)",
            "operationId": "getJob",
            "parameters": [{"name": "job_id", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}],
            "responses": {"200": _json(_ref("JobStatus"), "the job's status"), **_errors(*READ_ERRORS)},
        }
    },
    "/api/v1/fields/{field_id}/correction": {
        "post": {
            "summary": "แก้ไขค่าช่องข้อมูลของหนังสือ (correct one field)",
            "operationId": "correctField",
            "parameters": [_id("field_id", "เลขที่ช่องข้อมูล (letter field id)")],
            "requestBody": _body({"value": {"description": "ค่าใหม่ตามชนิดของช่องใน docs/letter-json.md",
                                            "nullable": True}}, ["value"],
                                 example={"value": "การใช้งานระบบบัญชี Carbon Credit ขององค์กรปกครองส่วนท้องถิ่น"}),
            "responses": {"200": _json(_ref("Correction"), "the correction"), **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/routing/inbox": {
        "get": {
            "summary": "งานที่ส่งถึงหน่วยงานของผู้ใช้ ใหม่สุดก่อน ทีละ 50 งาน (the office's tasks, newest first, 50 a page)",
            "operationId": "routingInbox",
            "parameters": [PAGE],
            "responses": {"200": _json(_ref("TaskPage"), "one page of tasks"), **_errors(*READ_ERRORS)},
        }
    },
    "/api/v1/routing/tasks/{task_id}": {
        "get": {
            "summary": "งาน พร้อมการลงรับ การเกษียน และประวัติ (a task with its receipt, endorsements, events)",
            "operationId": "getTask",
            "parameters": [TASK_ID],
            "responses": {"200": _json(_ref("TaskDetail"), "the task"), **_errors(*READ_ERRORS)},
        }
    },
    "/api/v1/routing/tasks/{task_id}/receive": {
        "post": {
            "summary": "ลงรับหนังสือของงานนี้ (register the task's letter)",
            "operationId": "receiveTask",
            "parameters": [TASK_ID],
            "requestBody": _body({
                "channel": {"type": "string", "enum": ["system", "e_office", "ecms", "email", "paper"]},
                "received_at": {"type": "string", "format": "date-time",
                                "description": "เวลาตามตราลงรับ ISO 8601; ไม่มีเขตเวลา = เวลาประเทศไทย; ไม่ระบุ = ตอนนี้"},
                "remarks": NOTE,
            }, is_required=False, example={"channel": "e_office", "received_at": "2025-04-03T09:30:00+07:00",
                                           "remarks": "รับจากระบบ e-office ของจังหวัด"}),
            "responses": {"201": _json(_ref("TaskResult"), "registered under a new number"),
                          "200": _json(_ref("TaskResult"), "already registered; the number is kept"),
                          **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/routing/receipts": {
        "post": {
            "summary": "ลงรับหนังสือจากภายนอก (register a letter that came from outside the service)",
            "operationId": "registerReceipt",
            "requestBody": _body({
                "channel": {"type": "string", "enum": ["system", "e_office", "ecms", "email", "paper"]},
                "letter": {"type": "object", "description": "LETTER ตาม docs/letter-json.md; "
                           "source_letter_id (ถ้ามี) คือเลขที่หนังสือในเอกสารที่หน่วยงานของผู้ใช้อัปโหลด"},
                "received_at": {"type": "string", "format": "date-time"},
                "sender_text": {"type": "string", "maxLength": 300},
                "remarks": NOTE,
            }, ["channel", "letter"]),
            "responses": {
                "201": _json({"type": "object", "required": ["receipt", "letter", "created"],
                              "properties": {"receipt": _ref("Receipt"), "letter": _ref("OfficialLetter"),
                                             "created": {"type": "boolean"}, "task_id": _nullable("integer")}},
                             "registered under a new number"),
                "200": _json({"type": "object", "required": ["receipt", "letter", "created"]},
                             "already registered; the number is kept"),
                **_errors(*WRITE_ERRORS),
            },
        }
    },
    "/api/v1/routing/tasks/{task_id}/endorse": {
        "post": {
            "summary": "เกษียนสั่งการ (endorse the received letter)",
            "operationId": "endorseTask",
            "parameters": [TASK_ID],
            "requestBody": _body({
                "decisions": {"type": "array", "minItems": 1, "items": {
                    "type": "string", "enum": ["ทราบ", "ดำเนินการ", "ถือปฏิบัติ", "แจ้งเวียน", "มอบ", "เห็นชอบ", "อนุมัติ"]}},
                "assigned_unit": {"type": "string", "maxLength": 200,
                                  "description": "กองหรือผู้รับมอบ ต้องระบุเมื่อสั่ง “มอบ” เท่านั้น"},
                "note": NOTE,
                "delegation_id": DELEGATION,
            }, ["decisions"], example={"decisions": ["ทราบ", "แจ้งเวียน"], "note": "แจ้ง อปท. ในสังกัดทราบและดำเนินการ"}),
            "responses": {"200": _json(_ref("TaskResult"), "endorsed"), **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/routing/tasks/{task_id}/assign": {
        "post": {
            "summary": "มอบหมายผู้รับผิดชอบ (assign an officer of the office)",
            "operationId": "assignTask",
            "parameters": [TASK_ID],
            "requestBody": _body({"assignee_id": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                                  "note": NOTE, "delegation_id": DELEGATION}, ["assignee_id"]),
            "responses": {"200": _json(_ref("TaskResult"), "assigned"), **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/routing/tasks/{task_id}/forward": {
        "post": {
            "summary": "แจ้งเวียนต่อหน่วยงานในสังกัด (forward to the offices below)",
            "operationId": "forwardTask",
            "parameters": [TASK_ID],
            "requestBody": _body({
                "recipient_codes": {"type": "array", "items": TEXT,
                                    "description": "รหัสหน่วยงานผู้รับ; ไม่ระบุ = หน่วยงานในสังกัดทั้งหมด"},
                "due": {"type": "string", "format": "date",
                        "description": "กำหนดส่ง ค.ศ.; ไม่ระบุ = กำหนดของหนังสือต้นเรื่องลบวันทำการเผื่อของหน่วยงาน"},
                "relative_days": {"type": "integer", "minimum": 1, "maximum": 365},
                "relative_working_days": {"type": "boolean"},
                "due_text": {"type": "string", "maxLength": 500},
                "subject": {"type": "string", "maxLength": 500},
                "urgency": {"type": "string", "enum": ["most_urgent", "very_urgent", "urgent"]},
                "confirmation_form": {"type": "array", "items": {"type": "object"}},
                "delegation_id": DELEGATION,
            }, is_required=False),
            "responses": {"201": _json(_ref("TaskResult"), "the new circular and its task count"),
                          **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/routing/tasks/{task_id}/confirm": {
        "post": {
            "summary": "กรอกแบบยืนยัน (fill in the confirmation form)",
            "operationId": "confirmTask",
            "parameters": [TASK_ID],
            "requestBody": _body({"values": {"type": "object", "additionalProperties": TEXT}}, ["values"], example={
                "values": {"officer_name": "นายอนุชา แสงทอง", "position": "นักวิชาการสิ่งแวดล้อม",
                           "phone": "0537312345", "email": "anucha@wiangphangkham.go.th"}}),
            "responses": {"200": _json(_ref("TaskResult"), "confirmed"), **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/routing/tasks/{task_id}/approve": {
        "post": {
            "summary": "อนุมัติแบบยืนยันและรายงานหน่วยงานต้นเรื่อง (approve the confirmation)",
            "operationId": "approveTask",
            "parameters": [TASK_ID],
            "requestBody": _body({"note": NOTE, "delegation_id": DELEGATION}, is_required=False),
            "responses": {"200": _json(_ref("TaskResult"), "approved and reported"), **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/routing/tasks/{task_id}/reject": {
        "post": {
            "summary": "ส่งแบบยืนยันกลับให้แก้ไข (send the confirmation back)",
            "operationId": "rejectTask",
            "parameters": [TASK_ID],
            "requestBody": _body({"reason": NOTE, "delegation_id": DELEGATION}, ["reason"]),
            "responses": {"200": _json(_ref("TaskResult"), "sent back"), **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/routing/tasks/{task_id}/report": {
        "post": {
            "summary": "รายงานผลต่อหน่วยงานที่ส่งมา (report to the sending office)",
            "operationId": "reportTask",
            "parameters": [TASK_ID],
            "requestBody": _body({"note": NOTE, "delegation_id": DELEGATION}, is_required=False),
            "responses": {"200": _json(_ref("TaskResult"), "reported, with the counts"), **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/routing/letters/{letter_id}/rollup": {
        "get": {
            "summary": "สรุปผลการยืนยันของ อปท. ใต้หนังสือเวียน (roll-up of a circular)",
            "operationId": "letterRollup",
            "parameters": [_id("letter_id", "เลขที่หนังสือในระบบ (official letter id)")],
            "responses": {"200": _json(_ref("Rollup"), "the counts"), **_errors(*READ_ERRORS)},
        }
    },
    "/api/v1/ledger/balances": {
        "get": {
            "summary": "ยอดรวมและยอดคงเหลือทุกบัญชี (totals and balances)",
            "operationId": "ledgerBalances",
            "responses": {"200": _json(_ref("LedgerBalances"), "the balances"), **_errors(*READ_ERRORS)},
        }
    },
    "/api/v1/ledger/account": {
        "get": {
            "summary": "บัญชีคาร์บอนเครดิตของหน่วยงานของผู้ใช้ (the user's LAO account)",
            "operationId": "ledgerOwnAccount",
            "responses": {"200": _json(_ref("LedgerAccount"), "the account"), **_errors(*READ_ERRORS)},
        }
    },
    "/api/v1/ledger/accounts/{code}/statement": {
        "get": {
            "summary": "รายการเคลื่อนไหวของบัญชี (an account's statement)",
            "operationId": "ledgerStatement",
            "parameters": [{"name": "code", "in": "path", "required": True, "description": "เช่น LAO-5570901",
                            "schema": {"type": "string", "pattern": "^[A-Z0-9][A-Z0-9-]{0,39}$"}}],
            "responses": {"200": _json(_ref("Statement"), "the entries"), **_errors(*READ_ERRORS)},
        }
    },
    "/api/v1/ledger/requests": {
        "get": {
            "summary": "คำขอของหน่วยงานของผู้ใช้ (the office's ledger requests)",
            "operationId": "ledgerRequests",
            "responses": {"200": _json({"type": "object", "required": ["requests"], "properties": {
                "requests": {"type": "array", "items": _ref("LedgerRequest")}}}, "the requests"),
                **_errors(*READ_ERRORS)},
        }
    },
    "/api/v1/ledger/reservations": {
        "post": {
            "summary": "จัดทำคำขอกันหน่วยไว้ขาย (prepare a reservation)",
            "operationId": "prepareReservation",
            "requestBody": _body({
                "idempotency_key": IDEMPOTENCY_KEY,
                "quantity": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                "letter_reference": {"type": "string", "minLength": 1, "maxLength": 300},
                "buyer_account": {"type": "string", "maxLength": 40},
            }, ["idempotency_key", "quantity", "letter_reference"]),
            "responses": {"201": _json(_ref("LedgerRequestResult"), "prepared"), **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/ledger/sales": {
        "post": {
            "summary": "จัดทำคำขอขายคาร์บอนเครดิต (prepare a sale)",
            "operationId": "prepareSale",
            "requestBody": _body({
                "idempotency_key": IDEMPOTENCY_KEY,
                "buyer_account": {"type": "string", "maxLength": 40},
                "quantity": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                "receipt_number": {"type": "string", "minLength": 1, "maxLength": 300},
                "receipt_date": {"type": "string", "format": "date"},
                "letter_reference": {"type": "string", "minLength": 1, "maxLength": 300},
                "reservation_id": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                "price_baht": {"type": "number", "minimum": 0, "maximum": 1000000000000},
            }, ["idempotency_key", "buyer_account", "quantity", "receipt_number", "receipt_date", "letter_reference"]),
            "responses": {"201": _json(_ref("LedgerRequestResult"), "prepared"), **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/ledger/retirements": {
        "post": {
            "summary": "จัดทำคำขอชดเชยการปล่อยก๊าซเรือนกระจก (prepare a retirement)",
            "operationId": "prepareRetirement",
            "requestBody": _body({
                "idempotency_key": IDEMPOTENCY_KEY,
                "quantity": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                "beneficiary": {"type": "string", "minLength": 1, "maxLength": 300},
                "purpose": {"type": "string", "minLength": 1, "maxLength": 300},
                "letter_reference": {"type": "string", "minLength": 1, "maxLength": 300},
            }, ["idempotency_key", "quantity", "beneficiary", "purpose", "letter_reference"], example={
                "idempotency_key": "eoffice-2568-0042", "quantity": 10, "beneficiary": "บริษัท ตัวอย่างพลังงานสะอาด จำกัด",
                "purpose": "ชดเชยการปล่อยก๊าซเรือนกระจกของงานประชุมประจำปี 2568",
                "letter_reference": "ทต.เวียงพางคำ ที่ ชร 72503/ว 118"}),
            "responses": {"201": _json(_ref("LedgerRequestResult"), "prepared"), **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/ledger/requests/{request_id}/approve": {
        "post": {
            "summary": "อนุมัติคำขอ (approve a request)",
            "operationId": "approveLedgerRequest",
            "parameters": [REQUEST_ID],
            "requestBody": _body({"idempotency_key": IDEMPOTENCY_KEY}, ["idempotency_key"]),
            "responses": {"200": _json(_ref("LedgerRequestResult"), "approved"), **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/ledger/requests/{request_id}/reject": {
        "post": {
            "summary": "ไม่อนุมัติคำขอ (reject a request)",
            "operationId": "rejectLedgerRequest",
            "parameters": [REQUEST_ID],
            "requestBody": _body({"idempotency_key": IDEMPOTENCY_KEY, "reason": {"type": "string", "maxLength": 300}},
                                 ["idempotency_key", "reason"]),
            "responses": {"200": _json(_ref("LedgerRequestResult"), "rejected"), **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/ledger/requests/{request_id}/confirm": {
        "post": {
            "summary": "กรมยืนยันคำขอ แล้วบันทึกบัญชี (DLA confirms and posts a request)",
            "operationId": "confirmLedgerRequest",
            "parameters": [REQUEST_ID],
            "requestBody": _body({"idempotency_key": IDEMPOTENCY_KEY}, ["idempotency_key"]),
            "responses": {"200": _json(_ref("LedgerRequestResult"), "confirmed and posted"),
                          **_errors(*WRITE_ERRORS)},
        }
    },
    "/api/v1/ecms/messages": {
        "post": {
            "summary": "รับหนังสือจาก e-CMS (GovernmentDocument) แล้วลงรับ (import and register an e-CMS letter)",
            "operationId": "importEcmsMessage",
            "requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}},
            "responses": {"201": _json(_ref("EcmsImport"), "stored, parsed and registered"),
                          "200": _json(_ref("EcmsImport"), "the letter file was stored before"),
                          **_errors(400, 401, 403, 404, 409, 413)},
        }
    },
    "/api/v1/ecms/letters/{letter_id}": {
        "get": {
            "summary": "ส่งออกหนังสือเป็นข้อความ e-CMS GovernmentDocument (export a parsed letter)",
            "operationId": "exportEcmsLetter",
            "parameters": [_id("letter_id", "เลขที่หนังสือที่อ่านแล้ว (parsed letter id)")],
            "responses": {"200": {"description": "the GovernmentDocument message",
                                  "content": {"application/xml": {"schema": {"type": "string"}}}},
                          **_errors(*READ_ERRORS)},
        }
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Saraban API",
        "version": "1",
        "description": (
            "API สำหรับระบบสารบรรณ: เอกสาร การเวียนหนังสือ บัญชีคาร์บอนเครดิต และการแลกเปลี่ยนหนังสือกับ e-CMS "
            "ทุกคำขอต้องมีโทเค็น API ในส่วนหัว Authorization: Bearer ... (ยกเว้นเอกสารนี้) "
            "ข้อผิดพลาดตอบเป็น {\"error\": {\"code\", \"message\"}} โดย message เป็นภาษาไทย"
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                           "description": "โทเค็นจาก `saraban api-token create`"}},
    },
}
