/* placeholder: being written */
typedef int prpath_placeholder_crc32c_t;
