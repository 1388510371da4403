//! `/api/v1/assessments`: assessments with their criteria statuses and
//! award state, scoped exactly as the web pages are (an organisation member
//! sees only their own; training leads see none).

use super::params::{Optional, Page};
use super::ApiUser;
use crate::app::assessments::{self as workflow, ApiAssessment, ApiPage};
use crate::db::Db;
use crate::domain::assessment::State;
use crate::error::{AppError, AppResult};
use crate::web::{AppState, PAGE_SIZE};
use rocket::serde::json::Json;
use rocket::{get, State as Managed};
use serde_json::json;
use serde_json::Value;

#[get("/assessments?<state>&<framework>&<page>")]
pub async fn list(
    user: ApiUser,
    db: &Db,
    app: &Managed<AppState>,
    state: Optional<String>,
    framework: Optional<String>,
    page: Optional<Page>,
) -> AppResult<Json<ApiPage>> {
    let (page, _) = Page::number_and_offset(page.0);
    workflow::api_list(
        app.ctx(db),
        &user.0.actor(),
        state.0.as_deref(),
        framework.0.as_deref(),
        page,
        PAGE_SIZE,
    )
    .await?
    .map(Json)
    .map_err(|_| {
        AppError::BadRequest(format!(
            "state must be one of: {}",
            State::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ))
    })
}

#[get("/assessments/<id>")]
pub async fn one(user: ApiUser, db: &Db, app: &Managed<AppState>, id: i64) -> AppResult<Json<ApiAssessment>> {
    Ok(Json(workflow::api_one(app.ctx(db), &user.0.actor(), id).await?))
}

/// Paths and schemas for the OpenAPI document.
pub fn extend_openapi(doc: &mut Value) {
    let unauthorised = json!({"description": "Missing, unknown or revoked token",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let forbidden = json!({"description": "This role does not see assessments (training leads)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let not_found = json!({"description": "Not found, or not visible to this token's user",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let states: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
    doc["paths"]["/assessments"] = json!({"get": {
        "summary": "Assessments visible to the token's user, 50 a page",
        "description": "Organisation members see their own organisation's; assessors and the programme lead see all.",
        "operationId": "listAssessments",
        "parameters": [
            {"name": "state", "in": "query", "required": false, "schema": {"type": "string", "enum": states}},
            {"name": "framework", "in": "query", "required": false, "schema": {"type": "string"}, "description": "A framework id, e.g. daha"},
            super::openapi::page_parameter()
        ],
        "responses": {
            "200": {"description": "A page of assessments", "content": {"application/json": {"schema": {
                "type": "object", "required": ["assessments", "total", "page", "page_size"], "properties": {
                    "assessments": {"type": "array", "items": {"$ref": "#/components/schemas/AssessmentSummary"}},
                    "total": {"type": "integer"}, "page": {"type": "integer"}, "page_size": {"type": "integer"}}}}}},
            "400": {"description": "An unknown state", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "401": unauthorised.clone(),
            "403": forbidden.clone()
        }
    }});
    doc["paths"]["/assessments/{id}"] = json!({"get": {
        "summary": "One assessment with every criterion's status and the award state",
        "operationId": "getAssessment",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
        "responses": {
            "200": {"description": "The assessment", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Assessment"}}}},
            "401": unauthorised, "403": forbidden, "404": not_found
        }
    }});
    let statuses = [
        "no_evidence",
        "evidence_added",
        "training_recorded",
        "carried_over",
        "changed_since_review",
        "met",
        "partially_met",
        "not_met",
        "not_applicable",
    ];
    let schemas = &mut doc["components"]["schemas"];
    schemas["AssessmentSummary"] = json!({"type": "object",
    "required": ["id", "organisation", "framework", "state", "status", "submission", "enrolled_at"],
    "properties": {
        "id": {"type": "integer"},
        "organisation": {"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "framework": {"type": "object", "required": ["id", "version"], "properties": {
            "id": {"type": "string"}, "version": {"type": "string"}, "name": {"type": "string"}}},
        "state": {"type": "string", "enum": states, "description": "The stored lifecycle state"},
        "status": {"type": "string", "description": "The state, or for an award what its dates make it: awarded, renewal_due, expired, renewed, revoked"},
        "status_label": {"type": "string"},
        "submission": {"type": "integer", "description": "How many times it has been sent for review"},
        "enrolled_at": {"type": "string", "format": "date-time"},
        "submitted_at": {"type": ["string", "null"], "format": "date-time"},
        "award": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Award"}]},
        "renewal_of": {"type": ["integer", "null"]},
        "renewed_by": {"type": ["integer", "null"]}
    }});
    schemas["Award"] = json!({"type": "object", "required": ["awarded_on", "expires_on", "status"], "properties": {
        "awarded_on": {"type": "string", "format": "date"},
        "expires_on": {"type": "string", "format": "date"},
        "status": {"type": "string", "enum": ["awarded", "renewal_due", "expired", "renewed", "revoked"]},
        "revoked_at": {"type": ["string", "null"], "format": "date-time"},
        "revocation_reason": {"type": "string"}}});
    schemas["Assessment"] = json!({"allOf": [{"$ref": "#/components/schemas/AssessmentSummary"}, {"type": "object",
        "required": ["criteria", "missing_for_submission", "blocking_award"], "properties": {
        "criteria": {"type": "array", "items": {"type": "object",
            "required": ["id", "area_id", "standard_id", "mandatory", "status", "evidence_count"], "properties": {
            "id": {"type": "string"}, "area_id": {"type": "string"}, "standard_id": {"type": "string"},
            "mandatory": {"type": "boolean"},
            "status": {"type": "string", "enum": statuses},
            "evidence_count": {"type": "integer", "description": "Current items whose validity has not ended"},
            "expired_evidence_count": {"type": "integer"},
            "changed_since_decision": {"type": "boolean"},
            "decision": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
                "decision": {"type": "string", "enum": ["met", "partially_met", "not_met", "not_applicable"]},
                "feedback": {"type": "string"}, "submission": {"type": "integer"},
                "decided_at": {"type": "string", "format": "date-time"}}}]},
            "training": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/TrainingJudgement"}]}}}},
        "missing_for_submission": {"type": "array", "items": {"$ref": "#/components/schemas/CriterionReason"}},
        "blocking_award": {"type": "array", "items": {"$ref": "#/components/schemas/CriterionReason"}},
        "projected_expiry": {"type": "string", "format": "date", "description": "When the award ends, or would if made today"}}}]});
    schemas["TrainingJudgement"] = json!({"type": "object",
        "description": "A criterion's training requirement, judged from the organisation's staff and training: live while the organisation can change its evidence, as frozen at submission after that. A met requirement counts as evidence.",
        "required": ["programme", "completion", "asks", "met", "figures", "trained", "not_trained", "as_of"],
        "properties": {
            "programme": {"type": "string"}, "completion": {"type": "string"},
            "asks": {"type": "string", "description": "The requirement in words"},
            "met": {"type": "boolean"},
            "figures": {"type": "string", "description": "For example \"7 of 9 frontline staff (78%); needs 80%\""},
            "trained": {"type": "array", "items": {"type": "string"}},
            "not_trained": {"type": "array", "items": {"type": "string"}},
            "as_of": {"type": "string", "format": "date"},
            "frozen_at": {"type": ["string", "null"], "format": "date-time", "description": "When it was frozen at submission; null while live"}}});
    schemas["CriterionReason"] = json!({"type": "object", "required": ["id", "reason"], "properties": {
        "id": {"type": "string"}, "reason": {"type": "string"}}});
}
