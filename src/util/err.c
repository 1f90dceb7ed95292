/* placeholder: being written */
typedef int prpath_placeholder_err_t;
