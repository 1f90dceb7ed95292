/* placeholder: being written */
typedef int prpath_placeholder_cdb_t;
