"""The row cells written in Python give what the template they replaced gave, character for character."""

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from referrals.templatetags.referral_statuses import sent_referral_cells
from tests.partners.factories import ServiceFactory
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

# templates/includes/sent_referral_cells.html as it was included on every row.
FORMER_INCLUDE = (
    "{% load i18n referral_statuses %}"
    '<td data-label="{% translate \'Service\' %}">{{ referral.service.name|default:"—" }}</td>\n'
    '<td data-label="{% translate \'Envoyée le\' %}">{{ referral.created_at|date:"SHORT_DATE_FORMAT" }}</td>\n'
    "<td data-label=\"{% translate 'Statut' %}\">{% status_badge referral %}</td>\n"
    "<td data-label=\"{% translate 'Lecture' %}\">{% viewed_badge referral %}</td>"
)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_sent_referral_cells_match_the_former_include(language):
    service = ServiceFactory(name="Prêt d'honneur <Initiative>")
    with_service = ReferralFactory(to_organisation=service.organisation, service=service, accepted=True)
    with_service.first_viewed_at = timezone.now()
    without_service = ReferralFactory()
    assert without_service.first_viewed_at is None

    with translation.override(language):
        for referral in (with_service, without_service):
            expected = Template(FORMER_INCLUDE).render(Context({"referral": referral}))
            assert str(sent_referral_cells(referral)) == expected
    assert "&lt;Initiative&gt;" in sent_referral_cells(with_service)
