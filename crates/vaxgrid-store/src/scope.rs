//! The part of the registry a caller may see or change. Every scoped read
//! and write of the store takes a [`Scope`]: records outside it are answered
//! as absent (`NotFound`), so a caller cannot even learn they exist.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use vaxgrid_core::access::{grants_for, Grant, Permission, ScopeKind};
use vaxgrid_core::area::subtree_upper_bound;

use crate::error::StoreError;
use crate::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything (administrators, and the system itself: CLI, imports).
    All,
    Limited {
        /// Area paths whose subtrees are covered.
        paths: Vec<String>,
        /// Sites where the caller works (doses are recorded there only).
        sites: Vec<String>,
        /// Persons covered by id (a resident's own record).
        persons: Vec<String>,
    },
}

/// Fail closed: a query that forgets to say its scope sees nothing.
impl Default for Scope {
    fn default() -> Scope {
        Scope::none()
    }
}

impl Scope {
    /// Nothing at all.
    pub fn none() -> Scope {
        Scope::Limited {
            paths: Vec::new(),
            sites: Vec::new(),
            persons: Vec::new(),
        }
    }

    /// Whether a record placed at area `path` is covered.
    pub fn covers_path(&self, path: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Limited { paths, .. } => paths
                .iter()
                .any(|p| path >= p.as_str() && path < subtree_upper_bound(p).as_str()),
        }
    }

    /// Whether the person with this id, living at `path`, is covered.
    pub fn covers_person(&self, id: &str, path: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Limited { persons, .. } => {
                persons.iter().any(|p| p == id) || self.covers_path(path)
            }
        }
    }

    /// Whether doses may be recorded at `site`.
    pub fn covers_site(&self, site: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Limited { sites, .. } => sites.iter().any(|s| s == site),
        }
    }

    /// An SQL condition on `path_column` and `id_column` with parameters
    /// from `$first` on, and the values to bind; `None` for `All`.
    pub(crate) fn sql(
        &self,
        path_column: &str,
        id_column: &str,
        first: usize,
    ) -> Option<(String, Vec<String>)> {
        let Scope::Limited { paths, persons, .. } = self else {
            return None;
        };
        let mut parts = Vec::new();
        let mut binds = Vec::new();
        for p in paths {
            let n = first + binds.len();
            parts.push(format!(
                "({path_column} >= ${n} AND {path_column} < ${})",
                n + 1
            ));
            binds.push(p.clone());
            binds.push(subtree_upper_bound(p));
        }
        for id in persons {
            parts.push(format!("{id_column} = ${}", first + binds.len()));
            binds.push(id.clone());
        }
        if parts.is_empty() {
            parts.push("1 = 0".to_string());
        }
        Some((format!("({})", parts.join(" OR ")), binds))
    }
}

/// Area paths and the areas of sites. A reorganisation moves and retires
/// areas (and re-points sites): the process that records it forgets
/// everything at once, and every process forgets what it read
/// `PLACES_FOR` ago, so a server beside it follows within that time. A
/// code not found is not remembered, as it may be created later. `scope_for` runs on every request of site staff:
/// without this it cost two queries per site grant.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlaceCache {
    inner: Arc<Mutex<Places>>,
}

#[derive(Debug, Default)]
struct Places {
    /// When the maps were last emptied.
    since: Option<std::time::Instant>,
    area_paths: HashMap<String, String>,
    /// Site code → (the site's code as stored, its area's code).
    site_areas: HashMap<String, (String, String)>,
}

impl PlaceCache {
    fn places(&self) -> std::sync::MutexGuard<'_, Places> {
        // A panic elsewhere while holding the lock leaves the maps whole
        // (each change is one insert), so a poisoned lock is still usable.
        let mut places = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if places.since.is_none_or(|t| t.elapsed() > PLACES_FOR) {
            places.area_paths.clear();
            places.site_areas.clear();
            places.since = Some(std::time::Instant::now());
        }
        places
    }

    /// Forgets every path and site read (the tree was reorganised).
    pub(crate) fn forget_all(&self) {
        let mut places = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        places.area_paths.clear();
        places.site_areas.clear();
        places.since = Some(std::time::Instant::now());
    }
}

/// How long a path or a site's area read is trusted (see `PlaceCache`).
const PLACES_FOR: std::time::Duration = std::time::Duration::from_secs(30);

impl Store {
    /// The path of area `code`, or `None` when there is no such area (or
    /// the database could not say: a scope fails closed).
    async fn area_path_of(&self, code: &str) -> Option<String> {
        if let Some(path) = self.places.places().area_paths.get(code) {
            return Some(path.clone());
        }
        let area = self.area(code).await.ok()?;
        self.places
            .places()
            .area_paths
            .insert(code.to_string(), area.path.clone());
        Some(area.path)
    }

    /// The stored code and the area code of site `code`.
    async fn site_area_of(&self, code: &str) -> Option<(String, String)> {
        if let Some(found) = self.places.places().site_areas.get(code) {
            return Some(found.clone());
        }
        let site = self.site(code).await.ok()?;
        let found = (site.code, site.area_code);
        self.places
            .places()
            .site_areas
            .insert(code.to_string(), found.clone());
        Some(found)
    }

    /// The scope `grants` give for `permission`: an area role covers its
    /// area's subtree; a site role covers its site (for recording) and the
    /// province of the site (for finding the persons who come there from
    /// anywhere in the province); a resident covers their own record.
    pub async fn scope_for(
        &self,
        grants: &[Grant],
        permission: Permission,
    ) -> Result<Scope, StoreError> {
        let mut paths = Vec::new();
        let mut sites = Vec::new();
        let mut persons = Vec::new();
        for g in grants_for(grants, permission) {
            match g.role.scope_kind() {
                ScopeKind::Global => return Ok(Scope::All),
                ScopeKind::Area => {
                    if let Some(path) = self.area_path_of(&g.scope).await {
                        paths.push(path);
                    }
                }
                ScopeKind::Site => {
                    if let Some((site, area_code)) = self.site_area_of(&g.scope).await {
                        if let Some(path) = self.area_path_of(&area_code).await {
                            let province = vaxgrid_core::area::province_of_path(&path);
                            paths.push(format!("/{province}/"));
                        }
                        sites.push(site);
                    }
                }
                ScopeKind::Person => persons.push(g.scope.clone()),
            }
        }
        Ok(Scope::Limited {
            paths,
            sites,
            persons,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_district_covers_its_subtree_only() {
        let s = Scope::Limited {
            paths: vec!["/22/193/".into()],
            sites: vec!["S1".into()],
            persons: vec!["p-1".into()],
        };
        assert!(s.covers_path("/22/193/"));
        assert!(s.covers_path("/22/193/06658/0665801/"));
        assert!(!s.covers_path("/22/194/06700/"));
        assert!(!s.covers_path("/22/1930/"));
        assert!(!s.covers_path("/22/"));
        assert!(s.covers_person("p-1", "/23/"));
        assert!(s.covers_site("S1") && !s.covers_site("S2"));
        assert!(!Scope::none().covers_path("/22/"));
        assert!(Scope::All.covers_path("/99/"));
    }
}
