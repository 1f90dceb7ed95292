/* placeholder: being written */
typedef int prpath_placeholder_persist_t;
