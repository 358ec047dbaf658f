"""Query filters of the referral, project holder and activity lists (django-filter).

Every filter narrows the already scoped queryset in the database: identifiers are compared as
numbers, so an unknown id gives an empty page, not an extra query.
"""

import django_filters
from django.utils.translation import gettext_lazy as _

from network.api_filters import FilterSet, IdFilter
from network.paging import AmongIds
from network.periods import DateFromToRangeFilter

from .models import Activity, ProjectHolder, Referral
from .pipeline import overdue_q
from .selectors import project_holders_matching


class ReferralFilter(FilterSet):
    # ``distinct=False``: a status is a column of the row, so no join can repeat a referral; the
    # default DISTINCT made PostgreSQL count and page the list through a sort of every column.
    status = django_filters.MultipleChoiceFilter(
        choices=Referral.Status.choices, distinct=False, label=_("Statut (répétable)")
    )
    to_organisation = IdFilter(field_name="to_organisation_id", label=_("Partenaire destinataire (id)"))
    from_organisation = IdFilter(field_name="from_organisation_id", label=_("Structure émettrice (id)"))
    neighbourhood = IdFilter(method="filter_neighbourhood", label=_("Quartier (id)"))
    created = DateFromToRangeFilter(
        field_name="created_at", label=_("Envoyée entre created_after et created_before (dates incluses)")
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("Sans réponse au-delà du délai du partenaire")
    )

    class Meta:
        model = Referral
        fields = ["status", "to_organisation", "from_organisation", "neighbourhood", "created", "overdue"]

    def filter_neighbourhood(self, queryset, name, value):
        # The neighbourhood's people first, then their referrals (``AmongIds``), rather than a join
        # tested on every referral of the list until the page is full.
        return queryset.filter(AmongIds("project_holder_id", ProjectHolder.objects.filter(neighbourhood_id=value)))

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())


class ProjectHolderFilter(FilterSet):
    q = django_filters.CharFilter(method="filter_search", max_length=100, label=_("Nom, prénom, contact ou quartier"))
    neighbourhood = IdFilter(field_name="neighbourhood_id", label=_("Quartier (id)"))

    class Meta:
        model = ProjectHolder
        fields = ["q", "neighbourhood", "stage", "situation"]

    def filter_search(self, queryset, name, value):
        return project_holders_matching(queryset, value)


class ActivityFilter(FilterSet):
    date = DateFromToRangeFilter(label=_("Entre date_after et date_before (incluses)"))
    neighbourhood = IdFilter(field_name="neighbourhood_id", label=_("Quartier (id)"))
    organisation = IdFilter(field_name="organisation_id", label=_("Structure (id)"))

    class Meta:
        model = Activity
        fields = ["kind", "date", "neighbourhood", "organisation"]
