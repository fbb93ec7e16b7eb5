"""Shapes of the answers (they also write the OpenAPI description). Field names are English;
the integrators' page maps them to the instruction's fields."""

from rest_framework import serializers


class ProblemSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)


class IssueSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Numéro de ligne dans le fichier déposé (l’en-tête est la ligne 1).")
    level = serializers.ChoiceField(choices=["erreur", "avertissement"])
    column = serializers.CharField(help_text="Titre de la colonne, tel qu’il figure dans le fichier.")
    field = serializers.CharField(help_text="Champ de l’API concerné (vide si la ligne entière).")
    message = serializers.CharField(help_text="Le message affiché sur la page du rapport de contrôle.")


class MonthlyListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    departement = serializers.CharField(source="departement.code")
    period = serializers.CharField(help_text="Mois de la liste, AAAA-MM.")
    version = serializers.IntegerField()
    state = serializers.CharField(help_text="processing, draft, failed, validated ou superseded.")
    state_label = serializers.CharField(source="get_state_display")
    progress = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()
    validated_at = serializers.DateTimeField(allow_null=True)
    is_late = serializers.BooleanField()
    row_count = serializers.IntegerField()
    error_count = serializers.IntegerField()
    warning_count = serializers.IntegerField()
    correction_reason = serializers.CharField()


class ListReportSerializer(MonthlyListSerializer):
    file_errors = serializers.ListField(child=serializers.CharField())
    needs_mapping = serializers.BooleanField()
    columns = serializers.DictField(child=serializers.CharField(), help_text="Champ de l’API → colonne du fichier.")
    ignored_columns = serializers.ListField(child=serializers.CharField())
    can_validate = serializers.BooleanField()
    issues = IssueSerializer(many=True)
    issues_page = serializers.IntegerField()
    issues_pages = serializers.IntegerField()


class RowCorrectionSerializer(serializers.Serializer):
    """The raw values of one row, as a person would type them on the correction page."""

    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    birth_date = serializers.CharField(required=False, allow_blank=True, max_length=20, help_text="JJ/MM/AAAA")
    sex = serializers.CharField(required=False, allow_blank=True, max_length=1, help_text="F ou M")
    status = serializers.CharField(required=False, allow_blank=True, max_length=10, help_text="DA, REFUGIE, PS…")
    shelter_address = serializers.CharField(required=False, allow_blank=True, max_length=500)
    entry_date = serializers.CharField(required=False, allow_blank=True, max_length=20, help_text="JJ/MM/AAAA")
    agdref = serializers.CharField(required=False, allow_blank=True, max_length=20)
    nationality = serializers.CharField(required=False, allow_blank=True, max_length=100)


class RowResultSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    errors = IssueSerializer(many=True)
    warnings = IssueSerializer(many=True)
    list = MonthlyListSerializer()


class CorrectionRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Motif de la correction (R.744-52).")


class ArchiveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    departement = serializers.CharField(source="departement.code")
    period = serializers.CharField()
    version = serializers.IntegerField()
    file_name = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    row_count = serializers.IntegerField()
    built_at = serializers.DateTimeField()


class PasswordSerializer(serializers.Serializer):
    archive = serializers.IntegerField()
    file_name = serializers.CharField()
    password = serializers.CharField()


class ReturnFileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    departement = serializers.CharField(source="departement.code")
    period = serializers.CharField()
    version = serializers.IntegerField()
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    progress = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()
    row_count = serializers.IntegerField()
    error_count = serializers.IntegerField()
    warning_count = serializers.IntegerField()
    file_errors = serializers.ListField(child=serializers.CharField(), source="report.file_errors", default=list)
    issues = serializers.ListField(child=serializers.DictField(), source="report.issues", default=list)
