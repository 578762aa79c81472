/* MIG mutations for hurd-sys's server stubs, read with -imacros.

   Before a server routine runs, its stub turns the port the request came
   on into our object, and drops that reference when the routine returns:
   io and fs requests get a protid, fsys requests a control.  Requests on a
   port that is not ours get a null object, which the routines answer with
   EOPNOTSUPP.  The functions named here are defined in Rust (hurd-sys's
   safe layer); their C declarations are in hurd-sys-decls.h.  */

#define IO_INTRAN hurd_sys_protid_t hurd_sys_protid_from_port (io_t)
#define IO_INTRAN_PAYLOAD hurd_sys_protid_t hurd_sys_protid_from_payload
#define IO_DESTRUCTOR hurd_sys_protid_release (hurd_sys_protid_t)
#define IO_IMPORTS import "hurd-sys-decls.h";

#define FILE_INTRAN hurd_sys_protid_t hurd_sys_protid_from_port (file_t)
#define FILE_INTRAN_PAYLOAD hurd_sys_protid_t hurd_sys_protid_from_payload
#define FILE_DESTRUCTOR hurd_sys_protid_release (hurd_sys_protid_t)
#define FILE_IMPORTS import "hurd-sys-decls.h";

#define FSYS_INTRAN hurd_sys_control_t hurd_sys_control_from_port (fsys_t)
#define FSYS_INTRAN_PAYLOAD hurd_sys_control_t hurd_sys_control_from_payload
#define FSYS_DESTRUCTOR hurd_sys_control_release (hurd_sys_control_t)
#define FSYS_IMPORTS import "hurd-sys-decls.h";
