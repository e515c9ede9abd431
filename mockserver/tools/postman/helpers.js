// Helpers of the generated tests (mockserver/tools/postman/helpers.js).

// The status the spec gives for success; on any other, say what the answer said.
function expectStatus(expected) {
    if (pm.response.code !== expected) {
        pm.expect.fail("status is " + expected + ": got " + pm.response.code + " " + errorDetail());
    }
}

// The answer's `error` and `errors` (the API's error bodies), else the start of its body.
function errorDetail() {
    let body;
    try {
        body = pm.response.json();
    } catch (e) {
        body = undefined;
    }
    if (jsonType(body) === "object" && ("error" in body || "errors" in body)) {
        const detail = {};
        ["error", "errors"].forEach(function (key) {
            if (key in body) detail[key] = body[key];
        });
        return JSON.stringify(detail);
    }
    const text = pm.response.text();
    return text ? (text.length > 200 ? text.slice(0, 200) + "..." : text) : "(empty body)";
}

function expectJson() {
    pm.expect(pm.response.headers.get("Content-Type") || "").to.match(/^application\/json\b/);
}

// Every key the request body sent comes back with the value sent, in the record at `path`.
function expectValuesSent(path) {
    const record = at(pm.response.json(), path)[0];
    const sent = JSON.parse(pm.variables.replaceIn(pm.request.body.raw));
    pm.expect(jsonType(record), "the record at " + JSON.stringify(path)).to.eql("object");
    Object.keys(sent).forEach(function (key) {
        pm.expect(record[key], key).to.eql(sent[key]);
    });
}

// Every record at each path has the expansion field asked for: [[path, field], ...].
function expectExpansions(pairs) {
    pairs.forEach(function (pair) {
        at(pm.response.json(), pair[0]).forEach(function (record) {
            pm.expect(record, pair[1]).to.have.property(pair[1]);
        });
    });
}

function expectValue(path, expected) {
    pm.expect(at(pm.response.json(), path)[0]).to.eql(expected);
}

// The record answered is the one the path asked for (ids compared as text).
function expectId(path, expected) {
    pm.expect(String(at(pm.response.json(), path)[0])).to.eql(String(expected));
}

// A value of a successful answer, kept in a collection variable for the requests after it.
function keepFromAnswer(variable, path, status) {
    if (pm.response.code === status) {
        pm.collectionVariables.set(variable, String(at(pm.response.json(), path)[0]));
    }
}

// The values at a path of keys ("*" = every item of an array).
function at(value, path) {
    let found = [value];
    path.forEach(function (key) {
        found = key === "*"
            ? found.flatMap(function (v) { return Array.isArray(v) ? v : []; })
            : found.map(function (v) { return v === null || v === undefined ? undefined : v[key]; });
    });
    return found;
}

function jsonType(value) {
    if (value === null) return "null";
    if (Array.isArray(value)) return "array";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    return typeof value;
}

// Required fields, recursively, with their JSON types; no field the schema closes out.
// Every problem is listed, not just the first.
function shapeProblems(value, shape, where, problems) {
    const type = jsonType(value);
    if (shape.types && !(shape.types.includes(type) || (type === "integer" && shape.types.includes("number")))) {
        problems.push(where + " is " + type + ", not " + shape.types.join(" or "));
        return problems;
    }
    if ("const" in shape && JSON.stringify(value) !== JSON.stringify(shape.const)) {
        problems.push(where + " is not " + JSON.stringify(shape.const));
    }
    if (type === "object") {
        Object.keys(shape.required || {}).forEach(function (key) {
            if (!(key in value)) problems.push(where + "." + key + " is missing");
            else shapeProblems(value[key], shape.required[key], where + "." + key, problems);
        });
        Object.keys(value).forEach(function (key) {
            if (shape.allowed && !shape.allowed.includes(key)) {
                problems.push(where + "." + key + " is not in the schema");
            }
        });
    }
    if (type === "array" && shape.items) {
        value.forEach(function (item, i) { shapeProblems(item, shape.items, where + "[" + i + "]", problems); });
    }
    return problems;
}

function checkShape(value, shape, where) {
    const problems = shapeProblems(value, shape, where, []);
    if (problems.length) throw new Error(problems.join("; "));
}
