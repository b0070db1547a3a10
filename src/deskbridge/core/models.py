"""Organisations (the tenants), their people, and the roles people hold in them."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from deskbridge.core.tenancy import TenantModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username or "")


class User(AbstractUser):
    """A person who signs in with an email address; belongs to organisations through Membership."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    language = models.CharField(_("language"), max_length=10, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[assignment,misc]

    def __str__(self) -> str:
        return self.email


class Organisation(models.Model):
    """A tenant: one seller business, with its Amazon accounts, helpdesk and people."""

    name = models.CharField(_("organisation name"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="organisations")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    AGENT = "agent", _("Agent")


class Membership(TenantModel):
    """A person's place in an organisation. Owners and admins manage it; agents work tickets."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="one_membership_per_org")
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    def may_set_role(self, target: Membership | None, role: str) -> bool:
        """Owners do anything; admins manage admins and agents; nobody strands the last owner."""
        if not self.can_manage:
            return False
        if self.role != Role.OWNER and (role == Role.OWNER or (target and target.role == Role.OWNER)):
            return False
        return not (target is not None and target.is_last_owner() and role != Role.OWNER)

    def may_remove(self, target: Membership) -> bool:
        if target.is_last_owner():
            return False
        if target.pk == self.pk:
            return True  # anyone may leave
        return self.can_manage and (self.role == Role.OWNER or target.role != Role.OWNER)

    def is_last_owner(self) -> bool:
        if self.role != Role.OWNER:
            return False
        owners = Membership.objects.filter(organisation_id=self.organisation_id, role=Role.OWNER)
        return not owners.exclude(pk=self.pk).exists()
