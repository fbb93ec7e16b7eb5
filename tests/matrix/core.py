from .base import LOGIN, NO_HABILITATION, OK, Route, only

PUBLIC = {}

ROUTES = [
    Route("home", expect=dict(NO_HABILITATION)),
    Route("health", expect={}, default=OK),  # public, no login: the probes of the proxy and compose
    Route("login", expect={"anonymous": OK}, default=302),
    Route("password_reset", expect={}, default=OK),
    Route("password_reset_done", expect={}, default=OK),
    Route("password_reset_complete", expect={}, default=OK),
    Route(
        "password_reset_confirm",
        expect={},
        default=OK,
        kwargs=lambda ctx: {"uidb64": "AA", "token": "invalid-token"},
    ),
    Route("legal_notice", expect={}, default=OK),
    Route("accessibility", expect={}, default=OK),
    Route("personal_data", expect={}, default=OK),
    Route("notice_pdf", expect={}, default=OK, kwargs=lambda ctx: {"language": "fr"}),
    Route("notice_pdf", expect={}, default=OK, kwargs=lambda ctx: {"language": "en"}),
    Route("notice_pdf", expect={}, default=404, kwargs=lambda ctx: {"language": "xx"}),
    Route("logout", expect={}, default=302, method="post"),
    Route("second_factor", expect={"anonymous": LOGIN}, default=302),  # verified: back to home
    Route("audit_list", expect=only({"admin", "siege"})),
    Route("audit_list", expect=only({"admin", "siege"}), query="action=login_success&departement=69"),
    Route("audit_export", expect=only({"admin", "siege"})),
    # Rights of access and rectification (R.744-52): OFII headquarters only.
    Route("rights:search", expect=only({"siege"})),
    Route("rights:search", expect=only({"siege"}), method="post",
          data=lambda ctx: {"nom": "NOM0", "prenom": "", "naissance": "1990-01-01"}),
    Route("rights:export", expect=only({"siege"}, allowed_status=404), method="post",
          data=lambda ctx: {"nom": "Personne", "naissance": "1990-01-01", "personne": "x", "format": "csv"}),

]
