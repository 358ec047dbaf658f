"""Funder data (issue 11): a person's gender and age bracket, a company's figures on a referral
completed with ``business_created``, and intake activities edited and deleted with their history,
each linked person marked new or already met.

An activity's people move from the automatic many-to-many table to ``ActivityAttendee`` (Django
cannot add ``through=`` to an existing field): the new table is created, the links are copied with
their ``is_new`` worked out as the services do (no earlier activity of the same CitésLab links the
person; same day: recorded earlier), then the old field and its table go and the field comes back
through the new table."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def copy_links(apps, schema_editor):
    Activity = apps.get_model("referrals", "Activity")
    ActivityAttendee = apps.get_model("referrals", "ActivityAttendee")
    Links = Activity._meta.get_field("project_holders").remote_field.through
    links = Links.objects.values_list(
        "activity__organisation_id", "activity__date", "activity_id", "projectholder_id"
    ).order_by("activity__organisation_id", "activity__date", "activity_id", "projectholder_id")
    met, rows = set(), []
    for organisation_id, _date, activity_id, holder_id in links.iterator():
        rows.append(
            ActivityAttendee(
                activity_id=activity_id, project_holder_id=holder_id, is_new=(organisation_id, holder_id) not in met
            )
        )
        met.add((organisation_id, holder_id))
    ActivityAttendee.objects.bulk_create(rows, batch_size=2000)


def copy_links_back(apps, schema_editor):
    Activity = apps.get_model("referrals", "Activity")
    ActivityAttendee = apps.get_model("referrals", "ActivityAttendee")
    Links = Activity._meta.get_field("project_holders").remote_field.through
    Links.objects.bulk_create(
        (
            Links(activity_id=activity_id, projectholder_id=holder_id)
            for activity_id, holder_id in ActivityAttendee.objects.values_list("activity_id", "project_holder_id")
        ),
        batch_size=2000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('partners', '0003_text_limits'),
        ('referrals', '0008_neighbourhood_and_holder_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ActivityAttendee',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('is_new', models.BooleanField(default=True, verbose_name='nouvelle personne')),
            ],
            options={
                'verbose_name': 'participant à une action',
                'verbose_name_plural': 'participants aux actions',
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='ActivityRevision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(choices=[('created', 'Enregistrée'), ('updated', 'Modifiée'), ('deleted', 'Supprimée')], max_length=10, verbose_name='opération')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='date')),
                ('changes', models.JSONField(blank=True, default=dict, verbose_name='changements')),
            ],
            options={
                'verbose_name': "historique d'une action d'accueil",
                'verbose_name_plural': "historique des actions d'accueil",
                'ordering': ['at', 'id'],
            },
        ),
        migrations.AddField(
            model_name='activity',
            name='deleted_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='supprimée le'),
        ),
        migrations.AddField(
            model_name='activity',
            name='deleted_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='supprimée par'),
        ),
        migrations.AddField(
            model_name='projectholder',
            name='age_bracket',
            field=models.CharField(blank=True, choices=[('under_26', 'Moins de 26 ans'), ('26_44', '26 à 44 ans'), ('45_plus', '45 ans et plus')], max_length=20, verbose_name="tranche d'âge"),
        ),
        migrations.AddField(
            model_name='projectholder',
            name='gender',
            field=models.CharField(blank=True, choices=[('female', 'Femme'), ('male', 'Homme'), ('unspecified', 'Ne souhaite pas le préciser')], max_length=20, verbose_name='genre'),
        ),
        migrations.AddField(
            model_name='referral',
            name='business_created_on',
            field=models.DateField(blank=True, null=True, verbose_name="date de création de l'entreprise"),
        ),
        migrations.AddField(
            model_name='referral',
            name='business_financing_eur',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='financement obtenu (euros)'),
        ),
        migrations.AddField(
            model_name='referral',
            name='business_jobs_created',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='emplois créés'),
        ),
        migrations.AddField(
            model_name='referral',
            name='business_legal_form',
            field=models.CharField(blank=True, choices=[('micro', 'Micro-entreprise'), ('ei', 'Entreprise individuelle (EI)'), ('sarl_eurl', 'SARL ou EURL'), ('sas_sasu', 'SAS ou SASU'), ('association_scop', 'Association, SCOP ou SCIC'), ('other', 'Autre forme')], max_length=20, verbose_name='forme juridique'),
        ),
        migrations.AddConstraint(
            model_name='referral',
            constraint=models.CheckConstraint(condition=models.Q(('outcome', 'business_created'), models.Q(('business_created_on', None), ('business_financing_eur', None), ('business_jobs_created', None), ('business_legal_form', '')), _connector='OR'), name='referral_business_figures_with_outcome'),
        ),
        migrations.AddField(
            model_name='activityattendee',
            name='activity',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='attendees', to='referrals.activity'),
        ),
        migrations.AddField(
            model_name='activityattendee',
            name='project_holder',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='attendances', to='referrals.projectholder'),
        ),
        migrations.AddField(
            model_name='activityrevision',
            name='activity',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='revisions', to='referrals.activity'),
        ),
        migrations.AddField(
            model_name='activityrevision',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='activityrevision',
            name='organisation',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='partners.organisation'),
        ),
        migrations.AddIndex(
            model_name='activityattendee',
            index=models.Index(fields=['project_holder', 'activity'], name='attendee_holder'),
        ),
        migrations.AddConstraint(
            model_name='activityattendee',
            constraint=models.UniqueConstraint(fields=('activity', 'project_holder'), name='activity_attendee_unique'),
        ),
        migrations.RunPython(copy_links, copy_links_back),
        migrations.RemoveField(model_name='activity', name='project_holders'),
        migrations.AddField(
            model_name='activity',
            name='project_holders',
            field=models.ManyToManyField(blank=True, related_name='activities', through='referrals.ActivityAttendee', to='referrals.projectholder', verbose_name='porteurs de projet'),
        ),
    ]
