//! The one error type of the domain layer: which field is wrong, and why, in words a caller can act
//! on. The HTTP layer turns it into `400 invalid_request` using its `Display` form.

/// A validation failure naming the offending field (a JSON path such as
/// `routingRules[3].priority`) and a human sentence saying what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DomainError {
    pub field: String,
    pub message: String,
}

impl DomainError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_field_then_the_reason() {
        let e = DomainError::new("routingRules[3].priority", "duplicate priority 10");
        assert_eq!(e.field, "routingRules[3].priority");
        assert_eq!(e.message, "duplicate priority 10");
        assert_eq!(
            e.to_string(),
            "routingRules[3].priority: duplicate priority 10"
        );
    }

    #[test]
    fn equality_compares_both_parts() {
        assert_eq!(DomainError::new("a", "b"), DomainError::new("a", "b"));
        assert_ne!(DomainError::new("a", "b"), DomainError::new("a", "c"));
        assert_ne!(DomainError::new("a", "b"), DomainError::new("x", "b"));
    }
}
