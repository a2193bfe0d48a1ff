//! The authenticated routes, each declared once with its access rule and its handler: a group's
//! router and the access table ([`crate::http::auth::access::ACCESS_TABLE`]) are both built from
//! the same [`Routes`], so a route cannot be served behind `authorize` without its rule.
//! `scripts/check_layers.py` fails on a handle route registered any other way.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};

use crate::http::auth::{self, Access, Role, Scope};
use crate::kernel::state::AppState;

/// Whether a route counts against the handle's write rate limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Charge {
    /// A rate-limited write.
    Write,
    /// Not counted: reads, and the writes that must never be refused for budget.
    Free,
}

/// `Routes::get(role, scope, charge, handler)` and its siblings: one per HTTP method, each
/// adding that method with its rule through [`Routes::on`].
macro_rules! method_adders {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            pub(crate) fn $name<H, T>(self, role: Role, scope: Option<Scope>, charge: Charge, h: H) -> Self
            where
                H: Handler<T, AppState>,
                T: 'static,
            {
                self.on(Method::$method, (role, scope, charge), h)
            }
        )*
    };
}

/// One group's authenticated routes: `at(path)`, then that path's methods, each with its rule.
#[derive(Default)]
pub(crate) struct Routes {
    /// The path the next method is added to.
    at: &'static str,
    rules: Vec<Access>,
    paths: Vec<(&'static str, MethodRouter<AppState>)>,
}

impl Routes {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Makes `path` (exactly as axum matches it) the route the following methods are added to.
    pub(crate) fn at(mut self, path: &'static str) -> Self {
        if !self.paths.iter().any(|(p, _)| *p == path) {
            self.paths.push((path, MethodRouter::new()));
        }
        self.at = path;
        self
    }

    method_adders! {
        get => GET,
        post => POST,
        put => PUT,
        patch => PATCH,
        delete => DELETE,
    }

    /// Routes `method` at the current path to `handler` and records its rule, in one step. The
    /// router's method comes from the rule's, so the two cannot disagree; a method added twice
    /// to a path panics (axum's overlap check) when the table is built.
    fn on<H, T>(mut self, method: Method, rule: (Role, Option<Scope>, Charge), handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let path = self.at;
        let (_, router) = self
            .paths
            .iter_mut()
            .find(|(p, _)| *p == path)
            .expect("Routes::at(path) comes before its methods");
        let filter = MethodFilter::try_from(method.clone()).expect("a routable method");
        *router = std::mem::take(router).on(filter, handler);
        let (role, scope, charge) = rule;
        self.rules.push(Access {
            method,
            path,
            role,
            scope,
            write: charge == Charge::Write,
        });
        self
    }

    /// Both tables in one (a function serving two modules' routes).
    pub(crate) fn merge(mut self, other: Routes) -> Self {
        for (path, router) in other.paths {
            match self.paths.iter_mut().find(|(p, _)| *p == path) {
                Some((_, mine)) => {
                    *mine = std::mem::take(mine).merge(router);
                }
                None => self.paths.push((path, router)),
            }
        }
        self.rules.extend(other.rules);
        self
    }

    /// The access rules, in declaration order.
    pub(crate) fn into_rules(self) -> Vec<Access> {
        self.rules
    }

    /// The router: every path once, all behind `authorize` (which finds each route's rule in
    /// the table these same routes built).
    pub(crate) fn into_router(self, state: AppState) -> Router<AppState> {
        if self.paths.is_empty() {
            // axum refuses a route layer on a router without routes.
            return Router::new();
        }
        let router = self
            .paths
            .into_iter()
            .fold(Router::new(), |router, (path, methods)| {
                router.route(path, methods)
            });
        router.route_layer(axum::middleware::from_fn_with_state(state, auth::authorize))
    }
}
