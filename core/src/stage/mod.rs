//! One module per part of the export folder.
