"""The ingest stack's errors that a command reports as one sentence, apart from the modules that raise them, so the
CLI can catch them without importing the readers (dateutil, YAML, front matter) on every command."""


class ManifestError(Exception):
    """A sidecar manifest is malformed; the message names it."""


class RegistryError(Exception):
    """The registry file is unreadable or malformed; the message names the file."""
