from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models

from network.admin import ReadOnlyAdmin
from network.errors import DomainError

from .models import SERVICE_FIELDS, Invitation, Membership, MembershipChange, Neighbourhood, Organisation, Service
from .services.memberships import membership_add, membership_deactivate, membership_reactivate, membership_set_role
from .services.organisations import (
    NETWORK_ADMIN_FIELDS,
    ORGANISATION_SETTINGS,
    organisation_create,
    organisation_update,
)
from .services.services import service_create, service_update


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "organisation"
    extra = 0
    fields = ("user", "role", "is_active", "invited_by", "created_at")
    readonly_fields = ("user", "role", "is_active", "invited_by", "created_at")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


# organisation_create's arguments; the catalogue's fields follow through organisation_update.
CREATED_WITH = ("name", "address", "territory", "email", "sla_days", "follow_up_days", "is_active", "receives_by_link")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "territory", "sla_days", "follow_up_days", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "territory", "email")
    inlines = [MembershipInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # the website (Django 6's default)

    def save_model(self, request, obj, form, change):
        """Through partners.services, as the network administrator (no actor): every field."""
        editable = (*NETWORK_ADMIN_FIELDS, *ORGANISATION_SETTINGS)
        data = {f: form.cleaned_data[f] for f in editable if f in form.cleaned_data}
        try:
            if change:
                changed = {f: v for f, v in data.items() if f in form.changed_data}
                organisation_update(organisation=Organisation.objects.get(pk=obj.pk), **changed)
            else:
                created = organisation_create(
                    kind=form.cleaned_data["kind"], **{f: v for f, v in data.items() if f in CREATED_WITH}
                )
                rest = {f: v for f, v in data.items() if f not in CREATED_WITH and f in form.changed_data}
                if rest:
                    organisation_update(organisation=created, **rest)
                obj.pk = created.pk
                obj.group = created.group
        except DomainError as error:
            raise ValidationError(str(error.message)) from error


class MembershipChangeInline(admin.TabularInline):
    """A membership's history (``services`` write it): read-only."""

    model = MembershipChange
    extra = 0
    fields = ("at", "action", "role", "actor")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MembershipChange)
class MembershipChangeAdmin(ReadOnlyAdmin):
    """Who changed which membership, and when: written by the services, read-only here."""

    list_display = ("at", "membership", "action", "role", "actor")
    list_filter = ("action", "membership__organisation")
    search_fields = ("membership__user__username", "membership__user__email", "membership__organisation__name")
    list_select_related = ("membership__user", "membership__organisation", "actor")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Invitations are written by the organisations' admins (``services.invitation_*``): read-only here."""

    list_display = (
        "email",
        "organisation",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "cancelled_at",
    )
    list_filter = ("role", "organisation")
    search_fields = ("email", "organisation__name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role", "is_active", "created_at")
    list_filter = ("role", "is_active", "organisation__kind", "organisation")
    search_fields = ("user__username", "user__email", "organisation__name")
    autocomplete_fields = ("user", "organisation")
    readonly_fields = ("invited_by", "created_at", "deactivated_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return (*self.readonly_fields, "user", "organisation")
        return self.readonly_fields

    def get_inlines(self, request, obj):
        """Its history once it exists."""
        return [MembershipChangeInline] if obj is not None else []

    def save_model(self, request, obj, form, change):
        """Memberships go through the services so the organisation Group stays in sync."""
        try:
            if not change:
                created = membership_add(organisation=obj.organisation, user=obj.user, role=obj.role, invited_by=None)
                obj.pk = created.pk
                return
            current = Membership.objects.get(pk=obj.pk)
            if "role" in form.changed_data:
                membership_set_role(membership=current, role=obj.role)
            if "is_active" in form.changed_data:
                if obj.is_active:
                    membership_reactivate(membership=current)
                else:
                    membership_deactivate(membership=current)
        except DomainError as error:
            messages.error(request, str(error.message))


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "category", "is_active")
    list_filter = ("category", "is_active", "organisation__kind")
    search_fields = ("name", "description", "organisation__name")
    filter_horizontal = ("neighbourhoods",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = ("organisation", *SERVICE_FIELDS)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation":
            kwargs["queryset"] = Organisation.objects.filter(kind__in=Organisation.PARTNER_KINDS)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("organisation",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        """Services go through partners.services, as the network administrator (no actor)."""
        data = {f: form.cleaned_data[f] for f in form.changed_data if f not in ("organisation", "neighbourhoods")}
        neighbourhoods = form.cleaned_data.get("neighbourhoods")
        try:
            if change:
                service_update(service=Service.objects.get(pk=obj.pk), neighbourhoods=neighbourhoods, **data)
            else:
                created = service_create(
                    organisation=form.cleaned_data["organisation"], neighbourhoods=neighbourhoods or (), **data
                )
                obj.pk = created.pk
        except DomainError as error:
            raise ValidationError(str(error.message)) from error

    def save_related(self, request, form, formsets, change):
        """The neighbourhoods were set by the service."""


@admin.register(Neighbourhood)
class NeighbourhoodAdmin(admin.ModelAdmin):
    list_display = ("name", "commune", "qpv_code")
    search_fields = ("name", "commune", "qpv_code")
