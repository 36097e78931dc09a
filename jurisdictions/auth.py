"""Authentication that refuses demo accounts where they are not allowed (production)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


def demo_refused(user) -> bool:
    """True when `user` is a demo account and this deployment does not allow them."""
    profile = getattr(user, "staff", None)
    return bool(profile is not None and profile.demo and not settings.SHAOZI.get("ALLOW_DEMO_USERS", False))


class ShaoziModelBackend(ModelBackend):
    """Username/password login (sessions) that refuses demo accounts unless ALLOW_DEMO_USERS."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not demo_refused(user)


class ShaoziTokenAuthentication(TokenAuthentication):
    """`Authorization: Token …` for API clients; refuses demo accounts unless ALLOW_DEMO_USERS."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if demo_refused(user):
            raise exceptions.AuthenticationFailed("演示账号在此部署中不可用 demo accounts are disabled here")
        return user, token
