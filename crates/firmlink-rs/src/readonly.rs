//! A read-only firmlink: its target served by proxy (see [`crate::proxy`]),
//! so that every change below it is EROFS whatever the host's permissions.

use std::sync::Arc;

use hurd::errno::Errno;
use hurd::port::SendRight;
use hurd_server::{Credentials, Reply};
use hurd_translator::open::check_readonly;
use hurd_translator::proxy::Access;

use crate::link::target_for_client;
use crate::proxy::{Place, open_below};

/// Opens `rest` below the host's `target` with `flags` for a client with
/// `creds`, keeping it read-only: `target` is looked up with the
/// translator's own credentials, reparented so that `..` from its top
/// leads to `dotdot`, and given the client's identity before anything is
/// looked up on the client's behalf.
pub fn open_readonly(
    target: &str,
    dotdot: Option<&SendRight>,
    creds: &Credentials,
    rest: &str,
    flags: i32,
) -> Result<Reply, Errno> {
    check_readonly(flags)?;
    let place = Place { access: Access::ReadOnly, group: Arc::from(target), translators: Default::default() };
    open_below(&target_for_client(target, dotdot, creds)?, rest, flags, 0, &place, creds)
}
