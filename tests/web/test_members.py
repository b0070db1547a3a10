"""Who may add, re-role and remove members, exercised through the real URLs."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from deskbridge.core.models import Membership, Role, User
from tests.conftest import PASSWORD, Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hashing is not under test here (test_accounts checks argon2); many users are made."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


REFUSED_ROLE = "You cannot give that role."
REFUSED_REMOVE = "You cannot remove this member."


def membership(tenant: Tenant, role: str) -> Membership:
    return Membership.objects.get(organisation=tenant.organisation, user=getattr(tenant, role))


def roles(tenant: Tenant) -> dict[str, str]:
    """email → role, for everyone in the tenant's organisation."""
    rows = Membership.objects.filter(organisation=tenant.organisation).select_related("user")
    return {m.user.email: m.role for m in rows}


def add_second_owner(tenant: Tenant) -> Membership:
    user = User.objects.create_user("second-owner@example.com", PASSWORD)
    return Membership.objects.create(organisation=tenant.organisation, user=user, role=Role.OWNER)


def set_role(tenant: Tenant, actor: str, target: Membership, role: str):
    return tenant.client(actor).post(reverse("member_role", args=[target.pk]), {"role": role}, follow=True)


def remove(tenant: Tenant, actor: str, target: Membership):
    return tenant.client(actor).post(reverse("member_remove", args=[target.pk]), follow=True)


def add(tenant: Tenant, actor: str, email: str, role: str):
    return tenant.client(actor).post(reverse("members"), {"email": email, "role": role})


def shown(response, text: str) -> bool:
    return text in response.content.decode()


# --- agents ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN, Role.OWNER])
def test_agents_cannot_add_members(tenant, role):
    before = roles(tenant)

    response = add(tenant, Role.AGENT, "newcomer@example.com", role)

    assert response.status_code == 403
    assert roles(tenant) == before
    assert not User.objects.filter(email="newcomer@example.com").exists()
    assert mail.outbox == []


@pytest.mark.parametrize(("target", "role"), [(Role.ADMIN, Role.AGENT), (Role.OWNER, Role.AGENT)])
def test_agents_cannot_change_roles(tenant, target, role):
    before = roles(tenant)

    response = set_role(tenant, Role.AGENT, membership(tenant, target), role)

    assert shown(response, REFUSED_ROLE)
    assert roles(tenant) == before


def test_agents_cannot_promote_themselves(tenant):
    response = set_role(tenant, Role.AGENT, membership(tenant, Role.AGENT), Role.ADMIN)

    assert shown(response, REFUSED_ROLE)
    assert membership(tenant, Role.AGENT).role == Role.AGENT


@pytest.mark.parametrize("target", [Role.ADMIN, Role.OWNER])
def test_agents_cannot_remove_others(tenant, target):
    before = roles(tenant)

    response = remove(tenant, Role.AGENT, membership(tenant, target))

    assert shown(response, REFUSED_REMOVE)
    assert roles(tenant) == before


def test_agents_see_no_management_controls(tenant):
    html = tenant.client(Role.AGENT).get(reverse("members")).content.decode()

    assert reverse("member_role", args=[membership(tenant, Role.ADMIN).pk]) not in html
    assert reverse("member_remove", args=[membership(tenant, Role.ADMIN).pk]) not in html
    assert 'name="email"' not in html
    # ...but they do see their own "Leave".
    assert reverse("member_remove", args=[membership(tenant, Role.AGENT).pk]) in html


# --- admins ---------------------------------------------------------------------------------


def test_admins_can_add_admins_and_agents(tenant):
    assert add(tenant, Role.ADMIN, "helper@example.com", Role.AGENT).status_code == 302
    assert add(tenant, Role.ADMIN, "deputy@example.com", Role.ADMIN).status_code == 302

    assert roles(tenant)["helper@example.com"] == Role.AGENT
    assert roles(tenant)["deputy@example.com"] == Role.ADMIN


def test_admins_cannot_create_owners(tenant):
    before = roles(tenant)

    response = add(tenant, Role.ADMIN, "usurper@example.com", Role.OWNER)

    assert response.status_code == 403
    assert roles(tenant) == before
    assert not User.objects.filter(email="usurper@example.com").exists()


def test_the_admins_add_form_offers_no_owner_role(tenant):
    admin_form = tenant.client(Role.ADMIN).get(reverse("members")).context["form"]
    owner_form = tenant.client(Role.OWNER).get(reverse("members")).context["form"]

    assert Role.OWNER not in dict(admin_form.fields["role"].choices)
    assert Role.OWNER in dict(owner_form.fields["role"].choices)


def test_admins_can_change_agents_and_admins(tenant):
    agent = membership(tenant, Role.AGENT)
    set_role(tenant, Role.ADMIN, agent, Role.ADMIN)
    agent.refresh_from_db()
    assert agent.role == Role.ADMIN

    set_role(tenant, Role.ADMIN, agent, Role.AGENT)
    agent.refresh_from_db()
    assert agent.role == Role.AGENT


@pytest.mark.parametrize("target", [Role.AGENT, Role.ADMIN])
def test_admins_cannot_make_owners(tenant, target):
    response = set_role(tenant, Role.ADMIN, membership(tenant, target), Role.OWNER)

    assert shown(response, REFUSED_ROLE)
    assert membership(tenant, target).role == target


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT])
def test_admins_cannot_demote_an_owner_even_when_there_are_two(tenant, role):
    second = add_second_owner(tenant)

    response = set_role(tenant, Role.ADMIN, second, role)

    assert shown(response, REFUSED_ROLE)
    second.refresh_from_db()
    assert second.role == Role.OWNER
    assert membership(tenant, Role.OWNER).role == Role.OWNER


def test_admins_cannot_remove_an_owner_even_when_there_are_two(tenant):
    second = add_second_owner(tenant)

    response = remove(tenant, Role.ADMIN, second)

    assert shown(response, REFUSED_REMOVE)
    assert Membership.objects.filter(pk=second.pk).exists()


def test_admins_can_remove_agents(tenant):
    agent = membership(tenant, Role.AGENT)

    remove(tenant, Role.ADMIN, agent)

    assert not Membership.objects.filter(pk=agent.pk).exists()
    # The person's account stays; only their place in the organisation goes.
    assert User.objects.filter(pk=tenant.agent.pk).exists()


# --- owners and the last owner -------------------------------------------------------------


def test_owners_can_make_owners_and_demote_them(tenant):
    admin = membership(tenant, Role.ADMIN)
    set_role(tenant, Role.OWNER, admin, Role.OWNER)
    admin.refresh_from_db()
    assert admin.role == Role.OWNER

    set_role(tenant, Role.OWNER, admin, Role.AGENT)
    admin.refresh_from_db()
    assert admin.role == Role.AGENT


def test_owners_can_add_owners(tenant):
    assert add(tenant, Role.OWNER, "partner@example.com", Role.OWNER).status_code == 302

    assert roles(tenant)["partner@example.com"] == Role.OWNER


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT])
def test_the_last_owner_cannot_demote_themselves(tenant, role):
    response = set_role(tenant, Role.OWNER, membership(tenant, Role.OWNER), role)

    assert shown(response, REFUSED_ROLE)
    assert membership(tenant, Role.OWNER).role == Role.OWNER


def test_the_last_owner_cannot_leave(tenant):
    response = remove(tenant, Role.OWNER, membership(tenant, Role.OWNER))

    assert shown(response, REFUSED_REMOVE)
    assert membership(tenant, Role.OWNER).role == Role.OWNER


@pytest.mark.parametrize("actor", [Role.ADMIN, Role.AGENT])
def test_nobody_else_can_remove_the_last_owner(tenant, actor):
    remove(tenant, actor, membership(tenant, Role.OWNER))

    assert Membership.objects.filter(organisation=tenant.organisation, role=Role.OWNER).count() == 1


def test_an_owner_can_step_down_while_another_owner_remains(tenant):
    second = add_second_owner(tenant)

    set_role(tenant, Role.OWNER, membership(tenant, Role.OWNER), Role.ADMIN)

    assert membership(tenant, Role.OWNER).role == Role.ADMIN
    # Now the second owner is the last one, and they may not step down.
    second_client = tenant.client(Role.OWNER)
    second_client.force_login(second.user)
    second_client.post(reverse("member_role", args=[second.pk]), {"role": Role.ADMIN})
    second.refresh_from_db()
    assert second.role == Role.OWNER


def test_an_owner_can_remove_another_owner(tenant):
    second = add_second_owner(tenant)

    remove(tenant, Role.OWNER, second)

    assert not Membership.objects.filter(pk=second.pk).exists()


def test_an_unknown_role_is_refused(tenant):
    response = set_role(tenant, Role.OWNER, membership(tenant, Role.AGENT), "superuser")

    assert shown(response, REFUSED_ROLE)
    assert membership(tenant, Role.AGENT).role == Role.AGENT


# --- leaving --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN])
def test_anyone_can_leave(tenant, role):
    me = membership(tenant, role)
    client = tenant.client(role)

    response = client.post(reverse("member_remove", args=[me.pk]))

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert not Membership.objects.filter(pk=me.pk).exists()
    # Without a membership they can no longer see the organisation.
    assert client.get(reverse("members")).status_code == 404
    assert tenant.organisation.name not in client.get(reverse("dashboard")).content.decode()


def test_an_owner_can_leave_when_another_owner_remains(tenant):
    add_second_owner(tenant)
    me = membership(tenant, Role.OWNER)

    tenant.client(Role.OWNER).post(reverse("member_remove", args=[me.pk]))

    assert not Membership.objects.filter(pk=me.pk).exists()


# --- duplicates -----------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", [str.lower, str.upper])
def test_adding_an_existing_member_again_is_refused_beside_the_field(tenant, spelling):
    before = roles(tenant)

    response = add(tenant, Role.OWNER, spelling(tenant.agent.email), Role.ADMIN)

    assert response.status_code == 200
    assert (
        '<p class="error" id="id_email-error">This person is already a member.</p>'
        in response.content.decode()
    )
    assert roles(tenant) == before
    assert Membership.objects.filter(user=tenant.agent).count() == 1
    assert mail.outbox == []
