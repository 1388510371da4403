//! What frameworks and training programmes share: each comes in versions,
//! one file a version, and the newest version of each is the one new work uses.

use crate::domain::standards::compare_versions;

/// Something that comes in versions: a framework, a training programme.
pub trait Versioned {
    fn id(&self) -> &str;
    fn version(&self) -> &str;
}

/// Every version of every item, ordered by id and then by version, oldest first.
#[derive(Debug, Clone)]
pub struct Versions<T> {
    items: Vec<T>,
}

// Not derived: an empty list needs no default `T`.
impl<T> Default for Versions<T> {
    fn default() -> Self {
        Versions { items: Vec::new() }
    }
}

impl<T: Versioned> Versions<T> {
    pub fn new(mut items: Vec<T>) -> Self {
        items.sort_by(|a, b| {
            a.id()
                .cmp(b.id())
                .then_with(|| compare_versions(a.version(), b.version()))
        });
        Versions { items }
    }

    pub fn all(&self) -> &[T] {
        &self.items
    }

    pub fn get(&self, id: &str, version: &str) -> Option<&T> {
        self.items
            .iter()
            .find(|item| item.id() == id && item.version() == version)
    }

    /// The newest version of each item: what new work uses.
    pub fn current(&self) -> Vec<&T> {
        self.current_indexed().into_iter().map(|(_, item)| item).collect()
    }

    /// [`Self::current`], each with its place in [`Self::all`].
    pub fn current_indexed(&self) -> Vec<(usize, &T)> {
        let mut current: Vec<(usize, &T)> = Vec::new();
        for (index, item) in self.items.iter().enumerate() {
            match current.last_mut() {
                Some(last) if last.1.id() == item.id() => *last = (index, item),
                _ => current.push((index, item)),
            }
        }
        current
    }

    pub fn current_version(&self, id: &str) -> Option<&T> {
        self.items.iter().rev().find(|item| item.id() == id)
    }

    pub fn versions(&self, id: &str) -> Vec<&T> {
        self.items.iter().filter(|item| item.id() == id).collect()
    }
}
