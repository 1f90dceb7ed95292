/* placeholder: being written */
typedef int prpath_placeholder_sense_t;
