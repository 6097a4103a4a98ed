//! A role on the wire: `"owner"`, `"admin"` or `"member"`, read with the
//! domain's own parser so that an unknown role is refused in its words.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::user::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleName(pub Role);

impl Serialize for RoleName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for RoleName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(RoleName).map_err(serde::de::Error::custom)
    }
}

impl PartialSchema for RoleName {
    fn schema() -> RefOr<Schema> {
        let names = [Role::Owner, Role::Admin, Role::Member].map(Role::as_str);
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
            .description(Some(
                "owner: everything, including members; admin: credentials, API keys \
                 and integrations; member: view",
            ))
            .into()
    }
}

impl ToSchema for RoleName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Role")
    }
}

impl From<Role> for RoleName {
    fn from(r: Role) -> Self {
        RoleName(r)
    }
}
