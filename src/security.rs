//! Password hashing and random secrets. Kept apart from the web layer so the
//! command line (`user add`, `token create`) uses exactly the same rules.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The shortest password we accept. Length beats composition rules (NCSC guidance).
pub const MIN_PASSWORD_LEN: usize = 12;

/// Argon2id with the crate's defaults (19 MiB, 2 passes), the OWASP baseline.
/// CPU-heavy: call it from `spawn_blocking` in async code.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// False for a wrong password and for a stored hash that cannot be read.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the account does not exist, so a log-in for
/// an unknown email takes as long as one for a known email.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password never used").unwrap_or_default())
}

/// 256 random bits, URL-safe: session cookies, CSRF tokens, API tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A password people can type from a printed sheet: four groups of letters and digits.
pub fn random_password() -> String {
    random_groups(b"abcdefghjkmnpqrstuvwxyz23456789", 16)
}

/// `count` random symbols of `alphabet` in groups of four joined by dashes
/// (`K7QM-3XPA-…`): what people copy from paper, a password or a certificate code.
pub fn random_groups(alphabet: &[u8], count: usize) -> String {
    let mut bytes = vec![0u8; count];
    OsRng.fill_bytes(&mut bytes);
    let symbols: Vec<char> = bytes
        .iter()
        .map(|b| alphabet[usize::from(*b) % alphabet.len()] as char)
        .collect();
    symbols
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Secrets are stored only as this digest; they carry enough entropy that a
/// fast hash is safe, unlike passwords.
pub fn sha256_hex(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first difference.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_is_argon2id_and_verifies() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("Correct horse battery", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn generated_passwords_meet_the_minimum() {
        let password = random_password();
        assert!(password.len() >= MIN_PASSWORD_LEN, "{password}");
    }

    #[test]
    fn constant_time_eq_matches_equality() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
