/* placeholder: being written */
typedef int prpath_placeholder_info_t;
