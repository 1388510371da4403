//! The OpenAPI 3.1 description of `/api/v1`, written by hand so it says
//! exactly what the routes do.

use rocket::get;
use rocket::serde::json::Json;
use serde_json::{json, Value};

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
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
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
                    {"name": "page", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1}}
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
            "/completions": {"get": {
                "summary": "Each person's completions in one programme; organisation members see only their own staff",
                "operationId": "listCompletions",
                "parameters": [
                    {"name": "programme", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "organisation", "in": "query", "required": false, "schema": {"type": "integer"}}
                ],
                "responses": {"200": ok_json("Completions", json!({"type": "object", "required": ["programme", "people"], "properties": {
                    "programme": {"type": "string"}, "version": {"type": "string"},
                    "people": {"type": "array", "items": {"$ref": "#/components/schemas/PersonCompletions"}}}})),
                    "401": unauthorised, "404": not_found}
            }},
            "/certificates": {"get": {
                "summary": "Certificates with their code and state today; organisation members see only their own",
                "operationId": "listCertificates",
                "parameters": [
                    {"name": "programme", "in": "query", "required": false, "schema": {"type": "string"}},
                    {"name": "organisation", "in": "query", "required": false, "schema": {"type": "integer"}}
                ],
                "responses": {"200": ok_json("Certificates", json!({"type": "object", "required": ["certificates"], "properties": {
                    "certificates": {"type": "array", "items": {"type": "object",
                        "required": ["id", "code", "kind", "state", "holder_name", "title", "issued_on"],
                        "properties": {
                            "id": {"type": "integer"}, "code": {"type": "string"},
                            "kind": {"type": "string", "enum": ["training", "award"]},
                            "state": {"type": "string", "enum": ["valid", "expired", "revoked", "superseded"]},
                            "holder_name": {"type": "string"}, "title": {"type": "string"},
                            "organisation_id": {"type": "integer"}, "person_id": {"type": ["integer", "null"]},
                            "programme_id": {"type": "string"}, "issued_on": {"type": "string", "format": "date"},
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
                "Session": {"type": "object", "required": ["id", "programme_id", "module_id", "session_date"], "properties": {
                    "id": {"type": "integer"}, "programme_id": {"type": "string"}, "programme_version": {"type": "string"},
                    "module_id": {"type": "string"}, "module_title": {"type": "string"}, "session_date": {"type": "string", "format": "date"},
                    "start_time": {"type": "string"}, "venue": {"type": "string"}, "online": {"type": "boolean"}, "trainer": {"type": "string"},
                    "capacity": {"type": "integer"}, "cohort_id": {"type": "integer"}, "cohort_name": {"type": "string"},
                    "attended": {"type": "integer"}, "marked": {"type": "integer"}}},
                "Attendance": {"type": "object", "required": ["person_id", "status"], "properties": {
                    "attendance_id": {"type": "integer"}, "person_id": {"type": "integer"}, "full_name": {"type": "string"},
                    "email": {"type": "string"}, "organisation_id": {"type": "integer"}, "organisation_name": {"type": "string"},
                    "status": {"type": "string", "enum": ["attended", "partial", "absent", "cancelled"]}}},
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
    doc
}

#[get("/openapi.json")]
pub fn document() -> Json<Value> {
    Json(spec())
}
