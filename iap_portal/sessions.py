"""Database sessions that know their user, so "log out everywhere" can end them all.

Django's documented way to extend the database session backend (AbstractBaseSession)."""

from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class UserSession(AbstractBaseSession):
    user_id = models.BigIntegerField(null=True, db_index=True)

    @classmethod
    def get_session_store_class(cls):
        return SessionStore

    class Meta:
        app_label = "iap_portal"


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls):
        return UserSession

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        user_id = data.get("_auth_user_id")
        instance.user_id = int(user_id) if user_id and str(user_id).isdigit() else None
        return instance


def end_all_sessions(user):
    return UserSession.objects.filter(user_id=user.pk).delete()[0]
