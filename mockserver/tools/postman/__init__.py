"""The Postman collection "Dentare API" and environment "Dentare", generated
from the spec: `dentare-mock postman --out postman/`.

Every request's test script asserts the status the spec gives for success
(on any other, the failure shows the answer's `error` and `errors`), a JSON
answer, and the shape of the body: the required fields of the spec's
response schema, recursively, with their JSON types, and no field the schema
closes out. Where it applies it also checks that the answer echoes the values
sent, the paging parameters, the requested expansion fields and the id asked
for. The collection runs under newman against the mock, and again right
after without a reset (tests/integrations/test_postman.py).

One job per module, each using only those before it:

    shapes       what a test script checks of an answer, from its schema
    links        which answer sets which collection variable (the spec's `links`)
    scripts      each request's test and pre-request scripts (JavaScript in *.js)
    guide        the guide's curls and the fixture patient they use (fixtures/guide_examples.json)
    collection   the collection and environment documents
    cli          `dentare-mock postman`
"""

from __future__ import annotations

from .cli import main, write_postman
from .collection import COLLECTION_FILE, ENVIRONMENT_FILE, build_collection, build_environment, render
from .guide import GuideExample, GuideExamples, read_guide_examples
from .shapes import response_shape

__all__ = [
    "COLLECTION_FILE",
    "ENVIRONMENT_FILE",
    "GuideExample",
    "GuideExamples",
    "build_collection",
    "build_environment",
    "main",
    "read_guide_examples",
    "render",
    "response_shape",
    "write_postman",
]
