"""Warnings for the clerk: contradictions inside a letter and between letters of one file.

Real letters contradict themselves: a district letter dated 13 April requests names by
9 April, or a receipt stamp predates the letter. Such cases are flagged, never dropped.
"""
import datetime
import re

from parsers import codes, slips
from parsers.docnum import same_number
from parsers.thaidate import MONTHS_FULL

DISTRICT_RE = re.compile(r"อำเภอ\s?([ก-๛]+)")


def thai_date(iso: str) -> str:
    """Return an ISO date as a Buddhist-era date for the clerk, e.g. `9 เมษายน 2568`."""
    day = datetime.date.fromisoformat(iso)
    return f"{day.day} {MONTHS_FULL[day.month - 1]} {day.year + 543}"


def warning(code: str, message: str, field: str | None = None) -> dict:
    return {"code": code, "message": message, "field": field}


def _field_at(spans: dict, position: int) -> str | None:
    """Return the most specific field whose span contains `position`."""
    best = None
    for key, (start, end) in spans.items():
        if start <= position < end and (best is None or end - start < best[1]):
            best = (key, end - start)
    return best[0] if best else None


def check_letter(letter: dict, corrections: list[dict]) -> list[dict]:
    """Return the warnings about one letter."""
    out = []
    date = letter["date"]
    dues = [(n, d) for n, d in enumerate(letter["deadlines"]) if d["kind"] == "due" and d["date"]]
    if date:
        for n, item in dues:
            if item["date"] < date:
                out.append(warning("deadline_before_letter_date",
                                   f"กำหนดส่ง {thai_date(item['date'])} อยู่ก่อนวันที่ของหนังสือ "
                                   f"({thai_date(date)}) ควรตรวจสอบกับผู้ส่ง", f"deadlines.{n}"))

    received = sorted((s["date"], n) for n, s in enumerate(letter["receipt_stamps"]) if s["date"])
    received_field = f"receipt_stamps.{received[0][1]}.date" if received else None
    received = [day for day, _ in received]
    if received and date and received[0] < date:
        out.append(warning("receipt_before_letter_date",
                           f"ตราลงรับลงวันที่ {thai_date(received[0])} ก่อนวันที่ของหนังสือ "
                           f"({thai_date(date)})", received_field))
    if received:
        # The last stamp is the office that has the letter now, so its receipt date counts.
        for n, item in dues:
            if item["date"] < received[-1]:
                out.append(warning("deadline_passed_on_receipt",
                                   f"กำหนดส่ง {thai_date(item['date'])} ผ่านไปแล้วเมื่อลงรับหนังสือ "
                                   f"({thai_date(received[-1])})", f"deadlines.{n}"))

    out += _signatory_mismatch(letter)
    out += _corrections(letter, corrections)
    for start, end, token in slips.find_mixed_script(letter["text"]):
        out.append(warning("mixed_script",
                           f"พบอักษรต่างภาษาปนอยู่ในคำ \"{token}\" ควรตรวจสอบกับต้นฉบับ",
                           _field_at(letter["spans"], start)))
    for n, item in enumerate(letter["endorsements"]):
        if item.get("low_confidence"):
            words = " ".join(item["decisions"])
            out.append(warning("low_confidence",
                               f"ไม่สามารถบอกได้ว่าเกษียนหนังสือเลือกช่องใด จึงระบุทุกคำที่พิมพ์ไว้ ({words})",
                               f"endorsements.{n}.decisions"))
    return out


def _issuer_provinces(letter: dict) -> set[str]:
    head = " ".join(filter(None, (letter["issuer"], letter["issuer_address"])))
    found = set(codes.provinces_named(head))
    for code in codes.codes_for_postcode(letter["issuer_address"] or ""):
        found.add(codes.PROVINCE_BY_CODE[code])
    number = letter["doc_number"]
    if not found and number and number["prefix"] in codes.PROVINCE_BY_CODE:
        found.add(codes.PROVINCE_BY_CODE[number["prefix"]])
    return found


def _signatory_mismatch(letter: dict) -> list[dict]:
    person = letter["signatory"]
    if not person:
        return []
    signed = " ".join(filter(None, (person["position"], person["on_behalf_of"])))
    issuer_provinces = _issuer_provinces(letter)
    for name in codes.provinces_named(signed):
        if issuer_provinces and name not in issuer_provinces:
            return [warning("signatory_issuer_mismatch",
                            f"ผู้ลงนามดำรงตำแหน่งของจังหวัด{name} แต่หนังสือออกโดย{letter['issuer'] or 'ส่วนราชการ'}"
                            f" (จังหวัด{'/'.join(sorted(issuer_provinces))}) ควรตรวจสอบผู้ลงนาม",
                            "signatory.position")]
    issuer_districts = set(DISTRICT_RE.findall(letter["issuer"] or ""))
    signed_districts = set(DISTRICT_RE.findall(signed))
    if issuer_districts and signed_districts and not issuer_districts & signed_districts:
        return [warning("signatory_issuer_mismatch",
                        f"ผู้ลงนามดำรงตำแหน่งของอำเภอ{'/'.join(sorted(signed_districts))} "
                        f"แต่หนังสือออกโดย{letter['issuer']} ควรตรวจสอบผู้ลงนาม", "signatory.position")]
    return []


def _corrections(letter: dict, corrections: list[dict]) -> list[dict]:
    grouped: dict[tuple[str, str], list[dict]] = {}
    for item in corrections:
        grouped.setdefault((item["from"], item["to"]), []).append(item)
    out = []
    for (old, new), items in grouped.items():
        times = f" ({len(items)} แห่ง)" if len(items) > 1 else ""
        out.append(warning("corrected_text",
                           f"แก้คำที่อ่านหรือพิมพ์ผิด \"{old}\" เป็น \"{new}\"{times}",
                           _field_at(letter["spans"], items[0]["start"])))
    return out


def _same_issuer(citation: dict, letter: dict) -> bool:
    cited = citation.get("doc_number")
    own = letter.get("doc_number")
    if cited and own and (cited["prefix"], cited["office"]) == (own["prefix"], own["office"]):
        return True
    issuer = citation.get("issuer") or ""
    own_issuer = letter.get("issuer") or ""
    core = re.sub(r"^(?:สำเนา)?หนังสือ", "", issuer)
    return bool(core) and (core in own_issuer or own_issuer.endswith(core))


def check_file(letters: list[dict]) -> None:
    """Add warnings that need several letters: an enclosure citing the wrong number.

    An enclosure matches an enclosed letter of the same file by date and issuer (or the
    same office code). When their numbers differ, the citing letter gets the warning.
    """
    for letter in letters:
        for n, citation in enumerate(letter["enclosures"]):
            if not citation.get("date") or not citation.get("doc_number"):
                continue
            for k, other in enumerate(letters):
                if other is letter or other["date"] != citation["date"] or not other["doc_number"]:
                    continue
                if not _same_issuer(citation, other):
                    continue
                citation["letter_index"] = k
                if not same_number(citation["doc_number"], other["doc_number"]):
                    letter["warnings"].append(warning(
                        "citation_number_mismatch",
                        f"สิ่งที่ส่งมาด้วยอ้างหนังสือเลขที่ {citation['doc_number']['text']} "
                        f"แต่หนังสือที่แนบมาในไฟล์เดียวกันมีเลขที่ {other['doc_number']['text']}",
                        f"enclosures.{n}.doc_number"))
                break
