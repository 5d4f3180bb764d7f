//! Cards as verifiable credentials: issuer signing keys, the SD-JWT VC style token, the status
//! lists verifiers check offline, and the public trust list.

pub mod card_face;
pub mod holder_key;
pub mod jws;
pub mod key_binding;
pub mod keys;
pub mod offline;
pub mod platform_key;
pub mod qr;
pub mod signed;
pub mod status_list;
pub mod status_token;
pub mod token;
