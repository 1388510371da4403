//! Security headers on every response.

use super::AppState;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Request, Response};

pub struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        // No scripts at all: every page works without them, so none may run.
        res.set_header(Header::new(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ));
        res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        res.set_header(Header::new("X-Frame-Options", "DENY"));
        res.set_header(Header::new("Referrer-Policy", "same-origin"));
        res.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
        res.set_header(Header::new(
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ));
        let path = req.uri().path();
        if !path.starts_with("/static/") {
            // Pages can show confidential casework: never keep them in a shared cache.
            res.set_header(Header::new("Cache-Control", "no-store"));
        }
        let secure = req
            .rocket()
            .state::<AppState>()
            .is_some_and(|s| s.config.secure_cookies);
        if secure {
            res.set_header(Header::new("Strict-Transport-Security", "max-age=31536000"));
        }
    }
}
