/* placeholder: the console is being written */
