//! The OpenAPI 3.1 description of `/api/v1`, written by hand so it says
//! exactly what the routes do.

use rocket::get;
use rocket::serde::json::Json;
use serde_json::{json, Value};

/// Where the API is mounted; the document's `servers` entry.
pub const MOUNT: &str = "/api/v1";

/// The document's path template that `path` (below [`MOUNT`], without its
/// query) falls under, a `{name}` matching any one segment.
pub fn template_for(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    spec()["paths"].as_object()?.keys().find_map(|template| {
        let parts: Vec<&str> = template.split('/').collect();
        let matches = parts.len() == segments.len()
            && parts
                .iter()
                .zip(&segments)
                .all(|(part, segment)| part.starts_with('{') || part == segment);
        matches.then(|| template.clone())
    })
}

/// Text that [`crate::domain::validation::plain_text`] accepts: no control
/// characters but tab and line breaks. A query value with one is refused
/// with 422 before any handler sees it.
const PLAIN_TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// The `page` parameter of a paged list (see [`super::params::Page`]).
pub fn page_parameter() -> Value {
    json!({"name": "page", "in": "query", "required": false,
        "schema": {"type": "integer", "minimum": 1, "maximum": super::params::Page::MAX}})
}

/// Holds every parameter to what the API accepts: text in a query is plain
/// text, a whole number fits in 64 bits. Every operation with a parameter
/// that can fail those (or a required one that can be missing) says it may
/// be refused with 422.
fn type_parameters(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for operation in paths.values_mut().filter_map(|item| item.get_mut("get")) {
        let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        let mut may_be_refused = false;
        for parameter in parameters.iter_mut() {
            let in_query = parameter["in"] == "query";
            let schema = &mut parameter["schema"];
            if schema["type"] == "integer" {
                schema["format"] = json!("int64");
                may_be_refused = true;
            } else if in_query {
                if schema["type"] == "string" && schema.get("enum").is_none() {
                    schema["pattern"] = json!(PLAIN_TEXT);
                }
                may_be_refused = true;
            }
        }
        if !may_be_refused {
            // Text in a path is looked up as it is: no such thing is a 404.
            continue;
        }
        operation["responses"]["422"] = error_response(
            "A parameter is missing or not of its documented type (a number that is not a whole number, \
             one out of range, or text with a control character)",
        );
    }
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok_json(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

pub fn spec() -> Value {
    let unauthorised = error_response("Missing, unknown or revoked token");
    let not_found = error_response("Not found, or not visible to this token's user");
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "qmtrack API",
            "version": "1",
            "description": "Read access to qmtrack's standards, organisations and training records. Create a token under \
                'Your account' in the web app or with `qmtrack token create`, and send it as \
                `Authorization: Bearer <token>`. Organisation members see only their own organisation."
        },
        "servers": [{"url": MOUNT}],
        "security": [{"bearer": []}],
        "paths": {
            "/openapi.json": {"get": {
                "summary": "This document",
                "operationId": "getOpenApi",
                "security": [],
                "responses": {"200": ok_json("The OpenAPI document", json!({"type": "object", "required": ["openapi", "paths"]}))}
            }},
            "/me": {"get": {
                "summary": "The user the token belongs to",
                "operationId": "getMe",
                "responses": {"200": ok_json("The user", json!({"$ref": "#/components/schemas/Me"})), "401": unauthorised}
            }},
            "/frameworks": {"get": {
                "summary": "Every framework version in the standards library",
                "operationId": "listFrameworks",
                "responses": {
                    "200": ok_json("Frameworks", json!({"type": "object", "required": ["frameworks"], "properties": {
                        "frameworks": {"type": "array", "items": {"$ref": "#/components/schemas/FrameworkSummary"}}}})),
                    "401": unauthorised
                }
            }},
            "/frameworks/{id}/{version}": {"get": {
                "summary": "One framework version with its areas, standards and criteria",
                "operationId": "getFramework",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "version", "in": "path", "required": true, "schema": {"type": "string"}}
                ],
                "responses": {"200": ok_json("The framework", json!({"$ref": "#/components/schemas/Framework"})),
                    "401": unauthorised, "404": not_found}
            }},
            "/organisations": {"get": {
                "summary": "Organisations visible to the token's user, 50 a page",
                "operationId": "listOrganisations",
                "parameters": [
                    {"name": "q", "in": "query", "required": false, "schema": {"type": "string"}, "description": "Part of a name or locality"},
                    page_parameter()
                ],
                "responses": {
                    "200": ok_json("A page of organisations", json!({"type": "object", "required": ["organisations", "total", "page", "page_size"], "properties": {
                        "organisations": {"type": "array", "items": {"$ref": "#/components/schemas/Organisation"}},
                        "total": {"type": "integer"}, "page": {"type": "integer"}, "page_size": {"type": "integer"}}})),
                    "401": unauthorised
                }
            }},
            "/programmes": {"get": {
                "summary": "Every training programme version: modules (with the names sign-in sheets use), completion rules, organisation rule",
                "operationId": "listProgrammes",
                "responses": {"200": ok_json("Programmes", json!({"type": "object", "required": ["programmes"], "properties": {
                    "programmes": {"type": "array", "items": {"$ref": "#/components/schemas/Programme"}}}})), "401": unauthorised}
            }},
            "/sessions": {"get": {
                "summary": "Training sessions, newest first (council staff only)",
                "operationId": "listSessions",
                "parameters": [{"name": "programme", "in": "query", "required": false, "schema": {"type": "string"}}],
                "responses": {"200": ok_json("Sessions", json!({"type": "object", "required": ["sessions"], "properties": {
                    "sessions": {"type": "array", "items": {"$ref": "#/components/schemas/Session"}}}})),
                    "401": unauthorised, "403": error_response("Organisation members cannot list sessions")}
            }},
            "/sessions/{id}": {"get": {
                "summary": "One session with its register (council staff only)",
                "operationId": "getSession",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": ok_json("The session", json!({"allOf": [{"$ref": "#/components/schemas/Session"},
                    {"type": "object", "required": ["attendance"], "properties": {"attendance": {"type": "array", "items": {"$ref": "#/components/schemas/Attendance"}}}}]})),
                    "401": unauthorised, "403": error_response("Organisation members cannot see registers"), "404": not_found}
            }},
            "/sessions/{id}/evaluation": {"get": {
                "summary": "A session's evaluation results: counts per answer and the free-text answers, never one response (training staff only)",
                "operationId": "getSessionEvaluation",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": ok_json("The results", json!({"$ref": "#/components/schemas/SessionEvaluation"})),
                    "401": unauthorised, "403": error_response("Only training staff see evaluation results"),
                    "404": error_response("No such session, or its programme has no evaluation form")}
            }},
            "/completions": {"get": {
                "summary": "Each person's completions in one programme, 50 people a page in the order of their ids; organisation members see only their own staff",
                "operationId": "listCompletions",
                "parameters": [
                    {"name": "programme", "in": "query", "required": true, "schema": {"type": "string"}, "example": "domestic-abuse-ambassadors", "description": "A programme id"},
                    {"name": "organisation", "in": "query", "required": false, "schema": {"type": "integer"}},
                    {"name": "after", "in": "query", "required": false, "schema": {"type": "integer"}, "description": "The next_after of the page before; leave out for the first page"}
                ],
                "responses": {"200": ok_json("A page of completions", json!({"type": "object", "required": ["programme", "people", "page_size", "next_after"], "properties": {
                    "programme": {"type": "string"}, "version": {"type": "string"},
                    "page_size": {"type": "integer"},
                    "next_after": {"type": ["integer", "null"], "description": "Pass as after for the next page; null on the last page"},
                    "people": {"type": "array", "items": {"$ref": "#/components/schemas/PersonCompletions"}}}})),
                    "401": unauthorised, "404": not_found}
            }},
            "/certificates": {"get": {
                "summary": "Certificates with their code and state today; organisation members see only their own",
                "operationId": "listCertificates",
                "parameters": [
                    {"name": "programme", "in": "query", "required": false, "schema": {"type": "string"}},
                    {"name": "organisation", "in": "query", "required": false, "schema": {"type": "integer"}},
                    page_parameter()
                ],
                "responses": {"200": ok_json("A page of certificates, in name order", json!({"type": "object", "required": ["certificates", "page", "page_size", "has_next"], "properties": {
                    "page": {"type": "integer"}, "page_size": {"type": "integer"}, "has_next": {"type": "boolean"},
                    "certificates": {"type": "array", "items": {"type": "object",
                        "required": ["id", "code", "kind", "state", "holder_name", "title", "issued_on"],
                        "properties": {
                            "id": {"type": "integer"}, "code": {"type": "string"},
                            "kind": {"type": "string", "enum": ["training", "award"]},
                            "state": {"type": "string", "enum": ["valid", "expired", "revoked", "superseded"]},
                            "holder_name": {"type": "string"}, "title": {"type": "string"},
                            "organisation_id": {"type": "integer"}, "person_id": {"type": ["integer", "null"]},
                            "programme_id": {"type": ["string", "null"], "description": "None for an award certificate"}, "issued_on": {"type": "string", "format": "date"},
                            "expires_on": {"type": ["string", "null"], "format": "date"},
                            "revoked_at": {"type": ["string", "null"]},
                            "superseded_by": {"type": ["string", "null"]}}}}}})),
                    "401": unauthorised}
            }},
            "/organisations/{id}": {"get": {
                "summary": "One organisation",
                "operationId": "getOrganisation",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": ok_json("The organisation", json!({"$ref": "#/components/schemas/Organisation"})),
                    "401": unauthorised, "404": not_found}
            }}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object",
                    "required": ["status", "message"],
                    "properties": {"status": {"type": "integer"}, "message": {"type": "string"}}}}},
                "Me": {"type": "object", "required": ["id", "name", "email", "role"], "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"}, "email": {"type": "string"},
                    "role": {"type": "string", "enum": ["programme_lead", "assessor", "training_lead", "org_member"]},
                    "organisation_id": {"type": ["integer", "null"]}}},
                "FrameworkSummary": {"type": "object", "required": ["id", "name", "version", "validity_months"], "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "string"},
                    "audience": {"type": "string"}, "summary": {"type": "string"},
                    "validity_months": {"type": "integer"}, "illustrative": {"type": "boolean"},
                    "area_count": {"type": "integer"}, "criterion_count": {"type": "integer"}, "mandatory_count": {"type": "integer"}}},
                "Framework": {"allOf": [{"$ref": "#/components/schemas/FrameworkSummary"}, {"type": "object", "required": ["areas"], "properties": {
                    "areas": {"type": "array", "items": {"type": "object", "required": ["id", "title", "standards"], "properties": {
                        "id": {"type": "string"}, "title": {"type": "string"}, "summary": {"type": ["string", "null"]},
                        "standards": {"type": "array", "items": {"type": "object", "required": ["id", "title", "criteria"], "properties": {
                            "id": {"type": "string"}, "title": {"type": "string"},
                            "criteria": {"type": "array", "items": {"type": "object",
                                "required": ["id", "text", "guidance", "evidence", "mandatory"], "properties": {
                                "id": {"type": "string"}, "text": {"type": "string"}, "guidance": {"type": "string"},
                                "evidence": {"type": "string"}, "mandatory": {"type": "boolean"}}}}}}}}}}}}]},
                "Programme": {"type": "object", "required": ["id", "name", "version", "modules", "completions"], "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "string"}, "audience": {"type": "string"},
                    "summary": {"type": "string"}, "refresher_months": {"type": ["integer", "null"]},
                    "modules": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                        "synonyms": {"type": "array", "items": {"type": "string"}}, "hours": {"type": ["number", "null"]}}}},
                    "completions": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                        "modules": {"type": "array", "items": {"type": "string"}}, "after": {"type": ["string", "null"]}}}},
                    "organisation_rule": {"type": ["object", "null"]}}},
                "Session": {"type": "object", "required": ["id", "programme_id", "programme_version", "module_id", "module_title",
                    "session_date", "start_time", "venue", "online", "trainer", "capacity", "cohort_id", "cohort_name", "attended", "marked"], "properties": {
                    "id": {"type": "integer"}, "programme_id": {"type": "string"}, "programme_version": {"type": "string"},
                    "module_id": {"type": "string"}, "module_title": {"type": "string"}, "session_date": {"type": "string", "format": "date"},
                    "start_time": {"type": ["string", "null"], "description": "As entered; None when not given"}, "venue": {"type": "string"}, "online": {"type": "boolean"}, "trainer": {"type": "string"},
                    "capacity": {"type": ["integer", "null"], "minimum": 1, "description": "Places; None for no limit"}, "cohort_id": {"type": ["integer", "null"], "description": "None for a session outside any cohort"}, "cohort_name": {"type": "string"},
                    "attended": {"type": "integer"}, "marked": {"type": "integer"}}},
                "Attendance": {"type": "object", "required": ["attendance_id", "person_id", "full_name", "email", "organisation_id", "organisation_name", "status"], "properties": {
                    "attendance_id": {"type": "integer"}, "person_id": {"type": "integer"}, "full_name": {"type": "string"},
                    "email": {"type": "string"}, "organisation_id": {"type": "integer"}, "organisation_name": {"type": "string"},
                    "status": {"type": ["string", "null"], "enum": ["attended", "partial", "absent", "cancelled", null]}}},
                "SessionEvaluation": {"type": "object", "required": ["session_id", "programme_id", "programme_version", "session_date", "responses", "questions", "comments"], "properties": {
                    "session_id": {"type": "integer"}, "programme_id": {"type": "string"}, "programme_version": {"type": "string"},
                    "session_date": {"type": "string", "format": "date"}, "responses": {"type": "integer", "minimum": 0},
                    "questions": {"type": "array", "items": {"type": "object", "required": ["id", "text", "headline", "answered", "counts", "headline_percent", "sentence"], "properties": {
                        "id": {"type": "string"}, "text": {"type": "string"}, "headline": {"type": "string"}, "answered": {"type": "integer"},
                        "counts": {"type": "array", "items": {"type": "object", "required": ["answer", "count", "percent", "headline"], "properties": {
                            "answer": {"type": "string"}, "count": {"type": "integer"}, "percent": {"type": "integer"}, "headline": {"type": "boolean"}}}},
                        "headline_percent": {"type": "integer"}, "sentence": {"type": "string"}}}},
                    "comments": {"type": "array", "items": {"type": "string"}, "description": "The free-text answers, in alphabetical order"}}},
                "PersonCompletions": {"type": "object", "required": ["person_id", "name", "completions"], "properties": {
                    "person_id": {"type": "integer"}, "name": {"type": "string"}, "organisation_id": {"type": "integer"},
                    "organisation": {"type": "string"},
                    "completions": {"type": "array", "items": {"type": "object", "properties": {
                        "completion_id": {"type": "string"}, "title": {"type": "string"},
                        "state": {"type": "object", "properties": {"code": {"type": "string", "enum": ["not_started", "in_progress", "completed", "lapsed"]}, "label": {"type": "string"}}},
                        "completed_on": {"type": ["string", "null"], "format": "date"}, "lapses_on": {"type": ["string", "null"], "format": "date"}}}}}},
                "Organisation": {"type": "object", "required": ["id", "name", "org_type"], "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"},
                    "org_type": {"type": "string", "enum": ["housing_provider", "gp_practice", "childrens_centre", "council_service",
                        "police", "health", "probation", "voluntary_sector", "employer", "other"]},
                    "locality": {"type": "string"}, "address": {"type": "string"},
                    "contact_name": {"type": "string"}, "contact_email": {"type": "string"}, "contact_phone": {"type": "string"},
                    "da_lead_name": {"type": "string"}, "da_lead_email": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}}
            }
        }
    });
    super::assessments::extend_openapi(&mut doc);
    type_parameters(&mut doc);
    doc
}

#[get("/openapi.json")]
pub fn document() -> Json<Value> {
    Json(spec())
}
