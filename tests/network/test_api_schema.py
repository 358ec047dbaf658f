"""The OpenAPI schema describes every endpoint; Swagger UI is served by the project, without a CDN."""

import pytest
import yaml
from rest_framework.test import APIClient

from tests.html_elements import parse

pytestmark = pytest.mark.django_db

DESIGN_PATHS = {
    "/api/v1/auth/token/": {"post"},
    "/api/v1/me/": {"get"},
    "/api/v1/organisations/": {"get"},
    "/api/v1/organisations/{organisation_id}/members/": {"get", "post"},
    "/api/v1/organisations/{organisation_id}/members/{id}/": {"get", "patch"},
    "/api/v1/services/": {"get", "post"},
    "/api/v1/services/{id}/": {"get", "patch"},
    "/api/v1/neighbourhoods/": {"get"},
    "/api/v1/project-holders/": {"get", "post"},
    "/api/v1/project-holders/{uuid}/": {"get", "patch"},
    "/api/v1/project-holders/{uuid}/erase/": {"post"},
    "/api/v1/project-holders/{uuid}/consents/": {"get", "post"},
    "/api/v1/consents/{id}/withdraw/": {"post"},
    "/api/v1/referrals/": {"get", "post"},
    "/api/v1/referrals/{uuid}/": {"get"},
    "/api/v1/referrals/{uuid}/accept/": {"post"},
    "/api/v1/referrals/{uuid}/decline/": {"post"},
    "/api/v1/referrals/{uuid}/start/": {"post"},
    "/api/v1/referrals/{uuid}/complete/": {"post"},
    "/api/v1/referrals/{uuid}/cancel/": {"post"},
    "/api/v1/referrals/{uuid}/events/": {"get"},
    "/api/v1/activities/": {"get", "post"},
    "/api/v1/activities/{id}/": {"get", "patch", "delete"},
    "/api/v1/pipeline/": {"get"},
    # The public catalogue
    "/api/v1/catalogue/structures/": {"get"},
    "/api/v1/catalogue/services/": {"get"},
}


@pytest.fixture
def schema():
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_describes_every_endpoint_of_the_design(schema):
    assert schema["openapi"].startswith("3.")
    for path, methods in DESIGN_PATHS.items():
        assert methods <= set(schema["paths"][path]), path


def test_every_operation_documents_its_errors_with_the_error_shape(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"400", "404"} <= set(responses), (method, path)
            if "security" in operation:
                assert {"401", "403"} <= set(responses), (method, path)
            else:  # public (the token, the open catalogue): nobody is refused for who they are
                assert not {"401", "403"} & set(responses), (method, path)
            if method == "post" and path.startswith("/api/v1/referrals/{uuid}/"):
                assert "409" in responses, (method, path)
            error = responses["404"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ApiError"}
    assert schema["components"]["schemas"]["ApiError"]["required"] == ["code"]


def test_request_bodies_name_their_codes(schema):
    decline = schema["components"]["schemas"]["DeclineRequest"]
    assert decline["required"] == ["reason"]
    reasons = schema["components"]["schemas"]["DeclineReasonEnum"]["enum"]
    assert set(reasons) == {
        "unreachable",
        "no_show",
        "not_eligible",
        "not_interested",
        "no_capacity",
        "wrong_partner",
        "duplicate",
        "other",
    }
    referral_filters = {p["name"] for p in schema["paths"]["/api/v1/referrals/"]["get"]["parameters"]}
    assert {
        "status",
        "to_organisation",
        "from_organisation",
        "neighbourhood",
        "created_after",
        "created_before",
        "overdue",
        "page",
        "page_size",
    } <= referral_filters
    assert schema["components"]["securitySchemes"]["tokenAuth"]["in"] == "header"


def test_the_funder_fields_are_described_with_their_codes(schema):
    components = schema["components"]["schemas"]
    complete = components["CompleteRequest"]["properties"]
    assert set(complete) >= {
        "business_created_on",
        "business_legal_form",
        "business_jobs_created",
        "business_financing_eur",
    }
    legal_forms = next(
        component["enum"]
        for component in components.values()
        if set(component.get("enum", ())) >= {"micro", "sas_sasu", "association_scop"}
    )
    assert set(legal_forms) - {"", None} == {"micro", "ei", "sarl_eurl", "sas_sasu", "association_scop", "other"}
    holder = components["ProjectHolder"]["properties"]
    assert {"gender", "age_bracket"} <= set(holder)
    assert "gender" not in components["ReferralHolder"]["properties"]
    attendee = components["Attendee"]["properties"]
    assert set(attendee) == {"project_holder", "is_new"}


def test_swagger_ui_is_served_from_the_project_without_a_cdn():
    client = APIClient()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assets = [
        element.attrs[name]
        for element in parse(page.content).iter()
        for name in ("src", "href")
        if element.attrs.get(name)
    ]
    assert assets
    assert all(not asset.startswith(("http:", "https:", "//")) for asset in assets), assets
    bundle = next(a for a in assets if a.endswith("swagger-ui-bundle.js"))
    served = client.get(bundle)
    try:
        assert served.status_code == 200
        assert b"SwaggerUIBundle" in b"".join(served.streaming_content)
    finally:
        served.close()
