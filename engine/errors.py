"""The small family of errors the engine raises. The CLI prints them as one line; pages translate them."""


class SalaError(Exception):
    """Base of every error the engine raises on purpose."""


class ConfigError(SalaError):
    """A setting is missing or wrong; the message names the setting."""


class ContentInvalid(SalaError):
    """The course does not validate; `problems` holds every finding."""

    def __init__(self, problems):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.level == "error"]
        super().__init__(f"the course has {len(errors)} error(s); run `sala validate` to see them")


class SchemaTooNew(SalaError):
    """The database was migrated by a newer Sala than this one."""


class NotAllowed(SalaError):
    """The signed-in user may not do this."""


class InputError(SalaError):
    """Bad input from a person or a file; the message names the field, row or line."""


class FieldError(InputError):
    """A form field is wrong. `code` names the reason; pages translate it, the CLI prints the message."""

    def __init__(self, field: str, code: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.code = field, code


class Throttled(NotAllowed):
    """Too many failed sign-ins for a login (or from one address): refused, without a look at the password,
    for `minutes` more minutes."""

    def __init__(self, message: str, minutes: int):
        super().__init__(message)
        self.minutes = minutes
