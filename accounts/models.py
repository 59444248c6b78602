"""Database sessions that know their user (``accounts.sessions``)."""

from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class UserSession(AbstractBaseSession):
    user_id = models.BigIntegerField(null=True, db_index=True)

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore  # sessions imports this module

        return SessionStore

    class Meta:
        # The table keeps the name it had when the model lived in iap_portal (0005 there).
        db_table = "iap_portal_usersession"
