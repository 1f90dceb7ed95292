/* placeholder: being written */
typedef int prpath_placeholder_lu_t;
