"""Notifier settings: the shared ones plus SMTP."""

from __future__ import annotations

from shared.settings import CarelineSettings, SmtpSettings


class NotifierSettings(CarelineSettings, SmtpSettings):
    pass
