"""One ``multipart/form-data`` body read as one set of arguments: its fields and its files.

flask-smorest documents each ``@arguments`` location as a request body of its own, so a
form schema and a files schema make an upload with two bodies (an invalid OpenAPI
document, and a docs page that sends only one of them). The ``form_and_files`` location
reads the text fields and the file parts of the one body together, and documents them as
one ``multipart/form-data`` request body.
"""

from __future__ import annotations

from typing import Any

import flask
import marshmallow as ma
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict, MultiDict

FORM_AND_FILES = "form_and_files"


class UploadParser(FlaskParser):
    """webargs' Flask parser, with the ``form_and_files`` location."""

    __location_map__ = {**FlaskParser.__location_map__, FORM_AND_FILES: "load_form_and_files"}

    def load_form_and_files(self, req: flask.Request, schema: ma.Schema) -> Any:
        """Return the form's fields and the schema's file parts (other files are ignored,
        as the ``files`` location ignores them)."""
        files = MultiDict(
            [(name, part) for name, part in req.files.items(multi=True) if name in schema.fields]
        )
        return self._makeproxy(CombinedMultiDict([req.form, files]), schema)


class UploadBlueprint(Blueprint):
    """A blueprint whose ``@arguments`` may read ``location="form_and_files"``."""

    ARGUMENTS_PARSER = UploadParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        FORM_AND_FILES: "multipart/form-data",
    }
