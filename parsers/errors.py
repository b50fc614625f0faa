"""Typed errors for input that cannot be read at all."""


class InputError(Exception):
    """A file that cannot be parsed, with a stable code and a message for each audience.

    `code` is a stable snake_case id that other tools match on; `message_th` is shown to
    the clerk and `message_en` goes to logs.
    """

    def __init__(self, code: str, message_th: str, message_en: str):
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_th = message_th
        self.message_en = message_en

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message_th, "message_en": self.message_en}
