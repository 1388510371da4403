//! Query parameters held to the types the OpenAPI document gives them.
//!
//! Rocket reads a malformed `Option<T>` parameter as if it were absent, so
//! `?page=null` or `?organisation=x` would quietly list everything. The API
//! promises to refuse such values instead: [`Optional`] is absent only when
//! the parameter is, and a value that does not parse fails the route, which
//! Rocket answers with 422 (documented on every operation with parameters).

use crate::web::{MAX_PAGE, PAGE_SIZE};
use rocket::form::error::ErrorKind;
use rocket::form::{self, FromForm, FromFormField, Options, ValueField};

/// An optional query parameter that must parse when it is given.
pub struct Optional<T>(pub Option<T>);

#[rocket::async_trait]
impl<'v, T: FromForm<'v>> FromForm<'v> for Optional<T> {
    type Context = <T as FromForm<'v>>::Context;

    fn init(_: Options) -> Self::Context {
        T::init(Options { strict: true })
    }

    fn push_value(ctxt: &mut Self::Context, field: ValueField<'v>) {
        T::push_value(ctxt, field)
    }

    async fn push_data(ctxt: &mut Self::Context, field: form::DataField<'v, '_>) {
        T::push_data(ctxt, field).await
    }

    fn finalize(ctxt: Self::Context) -> form::Result<'v, Self> {
        match T::finalize(ctxt) {
            Ok(value) => Ok(Optional(Some(value))),
            Err(errors) if errors.iter().all(|e| matches!(e.kind, ErrorKind::Missing)) => Ok(Optional(None)),
            Err(errors) => Err(errors),
        }
    }
}

/// A page number: a whole number from 1 to [`MAX_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page(pub i64);

impl Page {
    /// The largest page the document allows.
    pub const MAX: i64 = MAX_PAGE;

    /// The page asked for (the first when none was) and the rows to skip.
    pub fn number_and_offset(page: Option<Page>) -> (i64, i64) {
        let number = page.map_or(1, |p| p.0);
        (number, (number - 1) * PAGE_SIZE)
    }
}

impl<'v> FromFormField<'v> for Page {
    fn from_value(field: ValueField<'v>) -> form::Result<'v, Self> {
        let number: i64 = field
            .value
            .parse()
            .map_err(|_| form::Error::validation("must be a whole number"))?;
        if (1..=Self::MAX).contains(&number) {
            Ok(Page(number))
        } else {
            Err(form::Error::validation(format!("must be from 1 to {}", Self::MAX)).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_a_whole_number_in_range() {
        let parse = |v: &str| Page::from_value(ValueField::from_value(v)).ok();
        assert_eq!(parse("3"), Some(Page(3)));
        assert_eq!(parse(&Page::MAX.to_string()), Some(Page(Page::MAX)));
        for refused in ["0", "-1", "", "null", "1.5", "99999999999999999999"] {
            assert_eq!(parse(refused), None, "{refused:?}");
        }
        assert_eq!(parse(&(Page::MAX + 1).to_string()), None);
        assert_eq!(Page::number_and_offset(None), (1, 0));
        assert_eq!(Page::number_and_offset(Some(Page(3))), (3, 2 * PAGE_SIZE));
    }
}
