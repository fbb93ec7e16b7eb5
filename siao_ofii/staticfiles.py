"""collectstatic without the parts of the DSFR distribution the pages never load.

Templates use the DSFR bundles (dsfr/dist/dsfr/dsfr.min.css, utility/utility.min.css, the
module/nomodule scripts), the fonts, icons, favicons and artwork they reference. The
per-component copies, the unminified duplicates and the Markdown notes are ~40 % of the
files and half of the manifest post-processing time (every url() of every style sheet is
resolved). A style sheet referencing an ignored file would make collectstatic fail
(manifest storage, strict), so an ignore too many cannot go unnoticed.
"""

from django.contrib.staticfiles.apps import StaticFilesConfig


class SiaoStaticFilesConfig(StaticFilesConfig):
    ignore_patterns = [
        *StaticFilesConfig.ignore_patterns,
        "*.md", "*.main.css", "*.main.min.css",
        # Full paths (Django matches directories by their name only, files by name and path).
        "dsfr/dist/component/*", "dsfr/dist/core/*", "dsfr/dist/layout/*", "dsfr/dist/legacy/*",
        "dsfr/dist/scheme/*", "dsfr/dist/analytics/*", "dsfr/dist/dsfr.legacy.min.css",
    ]
