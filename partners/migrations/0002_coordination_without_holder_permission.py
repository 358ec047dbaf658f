from django.db import migrations


def remove_holder_permission(apps, schema_editor):
    """Coordination groups read the pipeline, not the people: drop the global holder permission."""
    Organisation = apps.get_model("partners", "Organisation")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.filter(content_type__app_label="referrals", codename="view_projectholder"))
    for organisation in Organisation.objects.filter(kind="coordination").select_related("group"):
        organisation.group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0001_initial"),
        ("referrals", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(remove_holder_permission, migrations.RunPython.noop)]
