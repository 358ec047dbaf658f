from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from network.admin import ReadOnlyAdmin

from . import services
from .models import Activity, ActivityAttendee, ActivityRevision, Consent, ProjectHolder, Referral, ReferralEvent


@admin.register(ProjectHolder)
class ProjectHolderAdmin(ReadOnlyAdmin):
    """People are edited by the organisation that follows them (referrals.services), never here: an
    edit here would skip its rules (an erased person must stay erased). The admin erases them."""

    list_display = (
        "__str__",
        "neighbourhood",
        "situation",
        "stage",
        "created_by_organisation",
        "created_at",
        "erased_at",
    )
    list_filter = ("stage", "situation", "gender", "age_bracket", "neighbourhood", "created_by_organisation")
    search_fields = ("first_name", "last_name", "email", "uuid")
    actions = ["erase"]

    @admin.action(description=_("Anonymiser (droit à l'effacement)"))
    def erase(self, request, queryset):
        for holder in queryset:
            services.project_holder_erase(holder=holder)
        messages.success(request, _("%(n)d porteur(s) anonymisé(s).") % {"n": queryset.count()})


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ("project_holder", "organisation", "method", "given_at", "expires_at", "withdrawn_at")
    list_filter = ("method", "organisation")
    search_fields = ("project_holder__last_name",)


class ReferralEventInline(admin.TabularInline):
    model = ReferralEvent
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "actor", "actor_organisation", "reason_code", "comment")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ("uuid", "project_holder", "from_organisation", "to_organisation", "status", "created_at")
    list_filter = (
        "status",
        "to_organisation__kind",
        "to_organisation",
        "decline_reason",
        "outcome",
        "business_legal_form",
    )
    search_fields = ("uuid", "project_holder__last_name", "to_organisation__name")
    date_hierarchy = "created_at"
    list_select_related = ("project_holder", "from_organisation", "to_organisation")
    inlines = [ReferralEventInline]

    def has_change_permission(self, request, obj=None):
        # Viewable page with its history inline; every field stays read-only.
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.get_fields() if f.concrete and not f.many_to_many]


@admin.register(ReferralEvent)
class ReferralEventAdmin(ReadOnlyAdmin):
    list_display = ("referral", "from_status", "to_status", "actor", "actor_organisation", "at")
    list_filter = ("to_status",)
    list_select_related = ("referral__project_holder", "referral__to_organisation", "actor", "actor_organisation")


class ActivityAttendeeInline(admin.TabularInline):
    model = ActivityAttendee
    extra = 0
    can_delete = False
    fields = ("project_holder", "is_new")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ActivityRevisionInline(admin.TabularInline):
    model = ActivityRevision
    extra = 0
    can_delete = False
    fields = ("at", "action", "actor", "organisation", "changes")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    """Activities are edited and deleted by their CitésLab (referrals.services, with their
    history); the admin shows them, their people and their history."""

    list_display = ("kind", "date", "organisation", "neighbourhood", "attendee_count", "deleted_at")
    list_filter = ("kind", "organisation", "neighbourhood", ("deleted_at", admin.EmptyFieldListFilter))
    date_hierarchy = "date"
    inlines = [ActivityAttendeeInline, ActivityRevisionInline]

    def has_change_permission(self, request, obj=None):
        # Viewable page with its people and history inline; every field stays read-only.
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.get_fields() if f.concrete and not f.many_to_many] + [
            "partner_organisations"
        ]


@admin.register(ActivityAttendee)
class ActivityAttendeeAdmin(ReadOnlyAdmin):
    list_display = ("activity", "project_holder", "is_new")
    list_filter = ("is_new",)
    list_select_related = ("activity", "project_holder")


@admin.register(ActivityRevision)
class ActivityRevisionAdmin(ReadOnlyAdmin):
    list_display = ("activity", "action", "actor", "organisation", "at")
    list_filter = ("action",)
    list_select_related = ("activity", "actor", "organisation")
