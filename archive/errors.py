"""Errors raised by the archive package; each one reads as a one-line message for people."""

from __future__ import annotations

from pathlib import Path


class ArchiveError(Exception):
    """Root of every error the archive raises on purpose."""


class ExportFormatError(ArchiveError):
    """A file is not a usable DCE JSON export: names the file and the place (byte offset or message)."""

    def __init__(self, path: Path | str, where: str, reason: str) -> None:
        self.path = str(path)
        self.where = where
        self.reason = reason
        place = f" at {where}" if where else ""
        super().__init__(f"{self.path}{place}: {reason}")


class MessageSkipped(ExportFormatError):
    """One message is invalid (wrong field type, not a snowflake id): it is skipped, the file goes on."""


class SchemaTooNewError(ArchiveError):
    """The archive was written by a newer Hallway than this one."""


class ArchiveBusy(ArchiveError):
    """Another process held the archive's write lock for longer than we would wait."""


class PolicyError(ArchiveError):
    """The privacy policy file cannot be read."""


class MessageNotFound(ArchiveError):
    """No message with this id is in the archive."""

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id
        super().__init__(f"message {message_id} is not in the archive")


class ChannelNotFound(ArchiveError):
    """No channel with this id is in the archive."""

    def __init__(self, channel_id: int) -> None:
        self.channel_id = channel_id
        super().__init__(f"channel {channel_id} is not in the archive")


class UserNotFound(ArchiveError):
    """No user with this id is in the archive."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        super().__init__(f"user {user_id} is not in the archive")
