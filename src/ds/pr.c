/* placeholder: being written */
typedef int prpath_placeholder_pr_t;
