/* placeholder: being written */
typedef int prpath_placeholder_block_t;
