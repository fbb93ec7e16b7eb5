"""WhiteNoise's compressed manifest storage, each static file's URL computed once per process
(issue 15, goal 3: every page asks for about ten — style sheets, scripts, icons — and each
lookup in the manifest cost as much as reversing an address). The manifest is read once at
start anyway (a new collectstatic takes effect at the next start, as before)."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls = {}

    def url(self, name, force=False):
        if force:
            return super().url(name, force=True)
        url = self._urls.get(name)
        if url is None:
            url = self._urls[name] = super().url(name)
        return url
