/* placeholder: being written */
typedef int prpath_placeholder_inquiry_t;
