// Dredd hooks: each documented answer of spec/openapi.yaml is provoked with the
// request that earns it, so Dredd checks every answer's shape (headers, and the
// body against the answer's JSON Schema), not only the 2xx ones.
//
// Dredd sends the spec's examples as they are (patient 4821 is the guide's Maria
// Hoxha, account 1 of the fixtures). The token comes from DENTARE_TOKEN.
//   DENTARE_TOKEN=... DENTARE_DREDD_SPEC=dredd.json \
//     npx dredd dredd.json http://127.0.0.1:8000/api/v1 --hookfiles tests/integrations/peers/dredd-hooks.js
// where dredd.json is spec/openapi.yaml with each parameter's named `examples` as one
// `example` (Dredd reads no other): `python -m tests.integrations.peers.dredd_document`.
const fs = require('fs');
const hooks = require('hooks');

const token = process.env.DENTARE_TOKEN;
// The JSON document Dredd runs on (test_peer_tools.py writes it from spec/openapi.yaml).
const spec = JSON.parse(fs.readFileSync(process.env.DENTARE_DREDD_SPEC, 'utf8'));

// Dredd's OpenAPI 3 parser drops `additionalProperties`, so the 422 answer's schema it
// derives demands the example's fields (`first_name`, `email`) in every `errors`.
// Check 422 bodies against the spec's own ValidationError schema instead.
function inline(node) {
  if (Array.isArray(node)) return node.map(inline);
  if (node === null || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string') {
    return inline(node.$ref.slice(2).split('/').reduce((at, key) => at[key], spec));
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inline(v)]));
}
const validationErrorSchema = JSON.stringify(inline(spec.components.schemas.ValidationError));
const UNKNOWN_ID = '/patients/999999999';

// Dredd sends to fullPath (the base URL's path + uri); both must change.
function setUri(t, uri) {
  t.fullPath = t.fullPath.slice(0, t.fullPath.length - t.request.uri.length) + uri;
  t.request.uri = uri;
}

// How to earn each non-2xx answer, by status (and method where it matters).
const provoke = {
  400: (t) => { t.request.body = '{"first_name": '; },
  401: (t) => { delete t.request.headers.Authorization; },
  404: (t) => {
    if (t.request.method === 'GET' && t.request.uri.split('?')[0] === '/patients') {
      // x-decisions.page_past_end: the kit answers a page past the end with 200.
      t.skip = true;
      return;
    }
    setUri(t, t.request.uri.replace(/^\/patients\/\d+/, UNKNOWN_ID));
  },
  413: (t) => { t.request.body = JSON.stringify({ first_name: 'x'.repeat(1024 * 1024 + 1), last_name: 'y' }); },
  415: (t) => { t.request.headers['Content-Type'] = 'text/plain'; },
  422: (t) => {
    t.expected.bodySchema = validationErrorSchema;
    if (t.request.method === 'GET') {
      setUri(t, t.request.uri + (t.request.uri.includes('?') ? '&' : '?') + 'lang=xx');
    } else {
      t.request.body = JSON.stringify({ first_name: '', email: 'not-an-email' });
    }
  },
};

hooks.beforeEach((t, done) => {
  t.request.headers.Authorization = `Bearer ${token}`;
  const status = Number(t.expected.statusCode);
  if (status >= 300) {
    const how = provoke[status];
    if (how) {
      how(t);
    } else {
      t.fail = `no way to provoke a ${status} is known (tests/integrations/peers/dredd-hooks.js)`;
    }
  }
  done();
});
