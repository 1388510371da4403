//! How an instant is bound: [`Instant`].

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

/// An instant as the database stores it, to bind (`.bind(Instant(now))`).
///
/// On PostgreSQL a `TIMESTAMPTZ`. On SQLite the text every stored instant
/// has always had, [`crate::clock::to_db`]'s `2026-01-01T09:00:00Z`: sqlx
/// would write a `DateTime<Utc>` as `2026-01-01T09:00:00.123+00:00`, and
/// text in two forms neither compares equal nor sorts as time does. Both
/// keep whole seconds, so a value reads back the same on either backend.
///
/// Rows read instants as `DateTime<Utc>`: sqlx reads both forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(pub DateTime<Utc>);

impl Instant {
    fn stored(self) -> DateTime<Utc> {
        self.0.trunc_subsecs(0)
    }
}

impl From<DateTime<Utc>> for Instant {
    fn from(at: DateTime<Utc>) -> Self {
        Instant(at)
    }
}

impl Type<Sqlite> for Instant {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <DateTime<Utc> as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for Instant {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> IsNull {
        <String as Encode<'q, Sqlite>>::encode(crate::clock::to_db(self.stored()), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Instant {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Instant(<DateTime<Utc> as Decode<'r, Sqlite>>::decode(value)?))
    }
}

impl Type<Postgres> for Instant {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <DateTime<Utc> as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for Instant {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> IsNull {
        <DateTime<Utc> as Encode<Postgres>>::encode(self.stored(), buf)
    }
}

impl<'r> Decode<'r, Postgres> for Instant {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Instant(<DateTime<Utc> as Decode<'r, Postgres>>::decode(value)?))
    }
}
