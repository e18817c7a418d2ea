#!/usr/bin/env Rscript
# cellucid-r.R -- drives cellucid-r 0.9.1's cellucid_prepare() behind the CLI contract of every
# cellucid-bench writer (the same as ../shared/peer/cellucid_prepare_092.py):
#
#     Rscript cellucid-r.R [export] INPUT.h5ad OUT_DIR --params PARAMS.json
#
# ("export" is optional, so the peer script's argv works unchanged.) Exit 0 on success with
# nothing printed; on any refusal or error exit 1 with one line `error: <message>` on stderr;
# usage errors exit 2, also with one line. cellucid_prepare()'s own output is swallowed.
#
# This is OUR driver, not part of cellucid-r: it reads the .h5ad with Debian's r-cran-hdf5r
# (cellucid-r itself takes R objects, not files) and maps PARAMS.json onto the arguments.
# Needs R packages hdf5r, jsonlite, Matrix; and cellucid (installed by hand, see the README
# section "cellucid-r as a writer") except in recording mode.
#
# Recording mode: with CELLUCID_R_RECORD=/path/args.json set, cellucid_prepare() is NOT called;
# a stand-in writes the arguments it would have received as JSON to that path and the driver
# exits 0 (harness/tests/r_driver.rs compares them with what cellucid-bench's reader takes from
# the same file). Every value is encoded as {"type": ...}:
#   NULL                 {"type":"NULL"}
#   double vector        {"type":"double","values":[...]}   17 significant digits, written by this
#                        script (Debian's jsonlite 1.8.4 writes at most 15); NA null, NaN "NaN",
#                        Inf "Inf", -Inf "-Inf"
#   integer / logical / character vector   {"type":..., "values":[...]}, NA as null
#   dense matrix         {"type":"matrix","storage":"double"|"integer","dim":[r,c],"values":[...]}
#                        values in R's own order (column-major)
#   dgCMatrix            {"type":"dgCMatrix","dim":[r,c],"i":[...],"p":[...],"x":[...]} (0-based i, p)
#   factor               {"type":"factor","levels":[...],"codes":[...]} (R's 1-based codes, NA null)
#   data.frame           {"type":"data.frame","nrow":n,"row_names":[...] or null (automatic),
#                         "columns":[{"name":..., "class":..., "value":{...}}]}
#   named list           {"type":"list","names":[...],"values":[{...}]}
# The file's top level: {"function":"cellucid::cellucid_prepare","args":{name: value, ...}}.
#
# Mapping decisions (PARAMS.json -> cellucid_prepare()):
# - Parameters named like prepare()'s (obs_keys, gene_identifiers, var_gene_id_column,
#   var_quantization, obs_continuous_quantization, obs_categorical_dtype, compression,
#   centroid_outlier_quantile, centroid_min_points, dataset_name, dataset_id,
#   dataset_description, created_at, source_name, source_url, source_citation,
#   vector_field_default, force) have the same name in cellucid_prepare() and are passed
#   through with their JSON types (6 -> integer, 6.0 -> double, true -> logical, a list of
#   strings -> character vector, null -> NULL passed explicitly, so `"centroid_outlier_quantile":
#   null` turns the outlier pass off as in prepare()). Any other key except "inputs" is refused;
#   duplicate keys are refused (strict JSON, as the peer script).
# - cellucid_prepare() requires obs_categorical_dtype, dataset_name and dataset_id and refuses
#   "auto"; 0.9.2's prepare() requires them too and has no defaults (the peer script lets it
#   refuse). When PARAMS.json leaves one out, this driver derives it as `cellucid-bench export`
#   does, so one params file works for every writer:
#     obs_categorical_dtype  "uint8" when every categorical obs column (factor: its declared
#                            levels, unused ones included; character: its distinct non-missing
#                            values) has at most 255 categories, else "uint16";
#     dataset_name           INPUT's file name without its extension;
#     dataset_id             that stem with every character outside [A-Za-z0-9._-] replaced by
#                            "-", trailing "." removed, prefixed "d" unless it starts with a
#                            letter or digit, cut to 180 bytes.
#   An explicit null is passed as NULL (and refused by cellucid_prepare()), never derived.
# - "inputs" maps array arguments to h5ad locations, the peer script's keys: gene_expression,
#   latent_space, X_umap_1d/2d/3d, connectivities, vector_fields {key: location}. A location
#   is "X", "layers/<key>" (gene_expression), "obsm/<key>", "obsp/<key>" or the legacy
#   "uns/neighbors/connectivities" (connectivities), as cellucid-bench's reader accepts. A null
#   location is skipped. When "inputs" is absent the peer's default mapping applies:
#   latent_space <- obsm/X_latent; gene_expression <- X when the file has one; X_umap_<d>d <-
#   obsm/X_umap_<d>d when present; connectivities <- obsp/connectivities when present (else
#   uns/neighbors/connectivities, which anndata moves into obsp when the peer reads such a
#   file); no vector fields.
# - obs is always the h5ad obs dataframe (automatic row names: cellucid_prepare() does not
#   use them and AnnData allows duplicates). var is passed only with gene_expression (0.9.2
#   reads var only then), with row names = the var index when it is unique, else automatic
#   (cellucid_prepare() then needs var_gene_id_column).
# - Column kinds: categorical -> factor (levels in stored order, unused kept; numeric
#   category labels become text, their shortest round-trip digits, since an R factor's levels
#   are text; boolean categories become a logical column); string arrays -> character (NA
#   for missing; cellucid_prepare() orders their levels by the session collation, so this
#   script sets LC_COLLATE to C: code-point order, as Python's sorted(). LC_ALL=C.UTF-8 is
#   not enough: Debian's R collates with ICU there, case-insensitively); numbers ->
#   integer (when hdf5r reads them losslessly as integer) or double; bool -> logical;
#   nullable-integer / nullable-boolean / nullable-string-array -> the same with NA at the mask.
#   Both AnnData dataframe encodings are read: >= 0.8 `categorical` groups (codes +
#   categories) and 0.7's codes dataset with its categories in `<frame>/__categories/<col>`.
#   The pre-0.7 compound-dataset layout is refused with a message.
# - Matrices: dense arrays -> numeric matrices, rebuilt row-major (hdf5r reports dimensions
#   reversed); 1-D obsm arrays -> (n, 1) matrices; CSR/CSC groups (encoding-type, or pre-0.7
#   h5sparse_format) -> Matrix::dgCMatrix with the stored structure (a CSR is taken as the CSC
#   of its transpose and transposed). Non-canonical sparse input (unsorted or duplicate
#   indices) goes through Matrix::sparseMatrix(), which sorts and sums duplicates in double
#   precision (0.9.2 sums them in the stored dtype). Values are doubles (R has no float32;
#   float32 converts exactly).
# - force: passed through (default FALSE in both). out_dir: OUT_DIR as given.
# - 0.9.2 leaves an empty `.<name>.cellucid.lock` beside OUT_DIR; as in the peer script, such a
#   file is removed afterwards if this run created it and it is a regular file.

suppressPackageStartupMessages({
  library(hdf5r)
  library(jsonlite)
})
# Matrix is loaded only when a sparse matrix is read (read_sparse): it is the slowest of the
# three to load and many inputs have none.

# cellucid_prepare() orders a character column's levels with order(), i.e. by the session's
# collation. Python sorts by code point. Only LC_COLLATE=C gives that in R (strcmp on UTF-8
# bytes = code-point order): Debian's R is built with ICU, and in any other locale, C.UTF-8
# included, it collates with ICU's root locale ("a" "B" "b", not "B" "a" "b").
# (suppressWarnings: a system without C.UTF-8 must not print; strings are marked UTF-8 anyway.)
invisible(suppressWarnings(Sys.setlocale("LC_COLLATE", "C")))
invisible(suppressWarnings(Sys.setlocale("LC_CTYPE", "C.UTF-8")))

USAGE <- "usage: cellucid-r.R [export] INPUT.h5ad OUT_DIR --params PARAMS.json"
PREPARE_PARAMS <- c(
  "obs_keys", "gene_identifiers", "var_gene_id_column", "var_quantization",
  "obs_continuous_quantization", "obs_categorical_dtype", "compression",
  "centroid_outlier_quantile", "centroid_min_points", "dataset_name", "dataset_id",
  "dataset_description", "created_at", "source_name", "source_url", "source_citation",
  "vector_field_default", "force"
)
STRING_LIST_PARAMS <- c("obs_keys", "gene_identifiers")
ARRAY_INPUTS <- c("gene_expression", "latent_space", "X_umap_1d", "X_umap_2d", "X_umap_3d", "connectivities")

fail <- function(...) stop(paste0(...), call. = FALSE)

usage_error <- function(msg) structure(class = c("usage_error", "error", "condition"), list(message = msg, call = NULL))

# ------------------------------------------------------------------------------ arguments

parse_args <- function(argv) {
  params <- NULL
  positional <- character(0)
  i <- 1
  while (i <= length(argv)) {
    a <- argv[[i]]
    if (a == "--params") {
      if (i == length(argv) || !is.null(params)) stop(usage_error(USAGE))
      params <- argv[[i + 1]]
      i <- i + 1
    } else if (startsWith(a, "--params=")) {
      if (!is.null(params)) stop(usage_error(USAGE))
      params <- substring(a, nchar("--params=") + 1)
    } else if (startsWith(a, "-") && a != "-") {
      stop(usage_error(sprintf("unknown option '%s'; %s", a, USAGE)))
    } else {
      positional <- c(positional, a)
    }
    i <- i + 1
  }
  if (length(positional) == 3 && positional[[1]] == "export") positional <- positional[-1]
  if (length(positional) != 2 || is.null(params)) stop(usage_error(USAGE))
  list(input = positional[[1]], out_dir = positional[[2]], params = params)
}

# Duplicate keys anywhere in the document (jsonlite keeps both; Python's strict loader refuses).
check_no_duplicate_keys <- function(x, where = "PARAMS.json") {
  if (!is.list(x)) return(invisible())
  keys <- names(x)
  if (!is.null(keys)) {
    dup <- keys[duplicated(keys)]
    if (length(dup)) fail(where, ": duplicate key '", dup[[1]], "'")
  }
  for (k in seq_along(x)) check_no_duplicate_keys(x[[k]], where)
}

load_params <- function(path) {
  text <- tryCatch(
    paste(readLines(path, encoding = "UTF-8", warn = FALSE), collapse = "\n"),
    error = function(e) fail("cannot read ", path, ": ", conditionMessage(e))
  )
  params <- tryCatch(fromJSON(text, simplifyVector = FALSE),
                     error = function(e) fail("PARAMS.json is not valid JSON: ", conditionMessage(e)))
  if (!is.list(params) || (length(params) > 0 && is.null(names(params)))) fail("PARAMS.json must hold one JSON object")
  check_no_duplicate_keys(params)
  unknown <- setdiff(names(params), c("inputs", PREPARE_PARAMS))
  if (length(unknown)) fail("PARAMS.json: unknown parameter(s) ", paste0("'", unknown, "'", collapse = ", "))
  params
}

# A JSON value as cellucid_prepare() should see it: lists of strings become character vectors.
param_value <- function(name, v) {
  if (is.null(v)) return(NULL)
  if (name %in% STRING_LIST_PARAMS && is.list(v)) {
    if (length(v) == 0) return(character(0))
    ok <- vapply(v, function(s) is.character(s) && length(s) == 1, logical(1))
    if (!all(ok)) fail(name, ": entry at position ", which(!ok)[[1]] - 1, " must be a string")
    return(enc_utf8(unlist(v)))
  }
  if (is.list(v)) fail(name, ": a JSON ", if (is.null(names(v))) "array" else "object", " is not a valid value")
  if (is.character(v)) enc_utf8(v) else v
}

# ------------------------------------------------------------------------------ HDF5 access

enc_utf8 <- function(x) {
  if (is.character(x)) Encoding(x) <- "UTF-8"
  x
}

# Whether `path` exists, component by component (a missing parent is "absent", not an error).
h5_exists <- function(f, path) {
  parts <- strsplit(path, "/", fixed = TRUE)[[1]]
  parts <- parts[parts != ""]
  if (!length(parts)) return(FALSE)
  prefix <- ""
  for (p in parts) {
    prefix <- if (prefix == "") p else paste0(prefix, "/", p)
    if (!f$exists(prefix)) return(FALSE)
  }
  TRUE
}

is_group <- function(f, path) inherits(f[[path]], "H5Group")

# A string (list) attribute, NULL when absent; 0-length attributes read as character(0)
# (hdf5r cannot read them, and an empty column-order is stored as a float64 array).
attr_strings <- function(obj, name) {
  if (!(name %in% h5attr_names(obj))) return(NULL)
  a <- obj$attr_open(name)
  on.exit(a$close())
  dims <- a$get_space()$dims
  if (length(dims) && prod(dims) == 0) return(character(0))
  enc_utf8(as.character(a$read()))
}

attr_string <- function(obj, name) {
  v <- attr_strings(obj, name)
  if (is.null(v) || !length(v)) NULL else v[[1]]
}

attr_ints <- function(obj, name) {
  if (!(name %in% h5attr_names(obj))) return(NULL)
  as.numeric(h5attr(obj, name))
}

encoding_of <- function(obj) {
  kind <- attr_string(obj, "encoding-type")
  if (is.null(kind)) "none" else kind
}

# The dataset's shape in HDF5 (row-major) order; hdf5r reports it reversed.
h5_shape <- function(ds) rev(ds$dims)

is_string_ds <- function(ds) ds$get_type()$get_class() == "H5T_STRING"

# A 1-D dataset's values. 0-length variable-length string datasets cannot be read by hdf5r
# (H5Dvlen_reclaim fails), so empty datasets are answered from their shape.
read_vector <- function(ds, path) {
  shape <- h5_shape(ds)
  if (length(shape) > 1) fail(path, ": ", length(shape), "-D array where a column was expected")
  if (length(shape) && prod(shape) == 0) {
    return(if (is_string_ds(ds)) character(0) else numeric(0))
  }
  v <- ds$read()
  if (is.character(v)) return(enc_utf8(as.vector(v)))
  as_r_number(as.vector(v))
}

# integer64 (an int64 hdf5r could not narrow) becomes double; everything else stays as read.
as_r_number <- function(v) {
  if (inherits(v, "integer64")) return(as.double(v))
  if (is.factor(v)) fail("unexpected enum values")
  v
}

# A dense 1-D or 2-D dataset as an R matrix in HDF5's (row-major) orientation.
read_dense <- function(ds, path, obsm_like) {
  shape <- h5_shape(ds)
  if (length(shape) == 1) {
    if (!obsm_like) fail(path, ": a 1-dimensional array where a matrix was expected")
    shape <- c(shape, 1)
  }
  if (length(shape) != 2) fail(path, ": ", length(shape), "-dimensional array; matrices have 1 or 2 dimensions")
  if (is_string_ds(ds)) fail(path, ": a string array is not a matrix")
  if (prod(shape) == 0) return(matrix(numeric(0), nrow = shape[[1]], ncol = shape[[2]]))
  v <- as.vector(ds$read())
  if (is.logical(v)) fail(path, ": a boolean array is not a numeric matrix")
  # R fills column-major; hdf5r's element order is HDF5's row-major order.
  matrix(as.double(as_r_number(v)), nrow = shape[[1]], ncol = shape[[2]], byrow = TRUE)
}

# A CSR/CSC group as a dgCMatrix with the stored shape.
read_sparse <- function(g, path) {
  kind <- encoding_of(g)
  format <- switch(kind,
    csr_matrix = "csr", csc_matrix = "csc",
    none = {
      h5s <- attr_string(g, "h5sparse_format")
      if (is.null(h5s)) fail(path, ": a group without an encoding is not an array")
      if (!(h5s %in% c("csr", "csc"))) fail(path, ": unknown sparse format h5sparse ", h5s)
      h5s
    },
    fail(path, " (encoding ", kind, "): expected a sparse matrix or dense array")
  )
  shape <- attr_ints(g, "shape")
  if (is.null(shape)) shape <- attr_ints(g, "h5sparse_shape")
  if (length(shape) != 2 || any(shape < 0)) fail(path, ": sparse matrix without a two-size shape attribute")
  for (part in c("data", "indices", "indptr")) {
    if (!h5_exists(g, part)) fail(path, "/", part, ": sparse component absent")
  }
  x <- as.double(read_vector(g[["data"]], paste0(path, "/data")))
  idx <- read_vector(g[["indices"]], paste0(path, "/indices"))
  ptr <- read_vector(g[["indptr"]], paste0(path, "/indptr"))
  if (length(x) != length(idx)) fail(path, "/indices: ", length(idx), " indices for ", length(x), " stored values")
  if (length(x) > .Machine$integer.max) fail(path, ": more than 2^31-1 stored values, beyond a dgCMatrix")
  major <- if (format == "csr") shape[[1]] else shape[[2]]
  minor <- if (format == "csr") shape[[2]] else shape[[1]]
  if (length(ptr) != major + 1 || ptr[[1]] != 0 || any(diff(ptr) < 0) || ptr[[length(ptr)]] != length(x)) {
    fail(path, "/indptr: not a non-decreasing 0..", length(x), " offset array of ", major + 1, " entries")
  }
  if (length(idx) && (min(idx) < 0 || max(idx) >= minor)) {
    fail(path, "/indices: an index outside 0..", minor, " (wrong shape attribute?)")
  }
  suppressPackageStartupMessages(loadNamespace("Matrix"))
  # CSC of (minor x major): the matrix itself for CSC, its transpose for CSR.
  dims <- as.integer(c(minor, major))
  m <- tryCatch(
    methods::new("dgCMatrix", Dim = dims, i = as.integer(idx), p = as.integer(ptr), x = x),
    error = function(e) {
      # Unsorted or duplicate indices: Matrix canonicalises (sorts, sums duplicates).
      Matrix::sparseMatrix(i = as.integer(idx), p = as.integer(ptr), x = x, dims = dims, index1 = FALSE, repr = "C")
    }
  )
  if (format == "csr") Matrix::t(m) else m
}

read_matrix <- function(f, path, obsm_like) {
  if (!h5_exists(f, path)) fail(path, ": not in the file")
  if (path %in% c("obsm", "obsp") || (startsWith(path, "obsm/") && !is_group(f, "obsm"))) {
    fail(path, ": a pre-0.7 compound obsm is not supported by this driver")
  }
  if (is_group(f, path)) return(read_sparse(f[[path]], path))
  ds <- f[[path]]
  kind <- encoding_of(ds)
  if (!(kind %in% c("none", "array"))) fail(path, " (encoding ", kind, "): expected a dense array")
  read_dense(ds, path, obsm_like)
}

# ------------------------------------------------------------------------------ dataframes

# Shortest decimal text that reads back as the same double (R's as.character keeps 15 digits).
number_text <- function(x) {
  vapply(x, function(v) {
    if (!is.finite(v)) return(as.character(v))
    for (d in 1:17) {
      s <- formatC(v, digits = d, format = "g")
      if (as.numeric(s) == v) return(trimws(s))
    }
    sprintf("%.17g", v)
  }, character(1), USE.NAMES = FALSE)
}

# Category labels in stored order: text, numbers as text, or logical.
read_labels <- function(f, path) {
  v <- read_vector(f[[path]], path)
  if (is.character(v) || is.logical(v)) v else number_text(as.double(v))
}

# Codes (any integer width, -1 = missing) and labels as a factor; boolean labels as logical.
categorical <- function(codes, labels, path) {
  codes <- as.numeric(codes)
  if (length(codes) && (any(codes < -1) || any(codes >= length(labels)))) {
    fail(path, ": a code outside -1..", length(labels))
  }
  codes[codes < 0] <- NA
  if (is.logical(labels)) return(labels[codes + 1])
  if (anyDuplicated(labels)) fail(path, ": duplicate categories")
  structure(as.integer(codes + 1), levels = labels, class = "factor")
}

read_nullable <- function(f, path, kind) {
  values <- read_vector(f[[paste0(path, "/values")]], paste0(path, "/values"))
  mask <- read_vector(f[[paste0(path, "/mask")]], paste0(path, "/mask"))
  if (!is.logical(mask)) fail(path, "/mask: not a boolean array")
  if (length(mask) != length(values)) fail(path, "/mask: mask and values differ in length")
  if (kind == "nullable-boolean" && !is.logical(values)) fail(path, "/values: not a boolean array")
  values[mask] <- NA
  values
}

read_column <- function(f, frame_path, name) {
  path <- paste0(frame_path, "/", name)
  if (!h5_exists(f, path)) fail(path, ": listed in column-order but absent")
  obj <- f[[path]]
  kind <- encoding_of(obj)
  if (inherits(obj, "H5Group")) {
    return(switch(kind,
      categorical = categorical(read_vector(obj[["codes"]], paste0(path, "/codes")),
                                read_labels(f, paste0(path, "/categories")), path),
      `nullable-integer` = , `nullable-boolean` = , `nullable-string-array` = read_nullable(f, path, kind),
      fail(path, " (encoding ", kind, "): not a dataframe column encoding")
    ))
  }
  if (!(kind %in% c("none", "array", "string-array"))) fail(path, " (encoding ", kind, "): not a dataframe column encoding")
  legacy <- paste0(frame_path, "/__categories/", name)
  if (h5_exists(f, legacy)) {
    # anndata 0.7: codes here, categories in the __categories subgroup.
    return(categorical(read_vector(obj, path), read_labels(f, legacy), path))
  }
  read_vector(obj, path)
}

# A dataframe as list(index = labels as text, columns = named list in column-order).
read_frame <- function(f, path) {
  if (!h5_exists(f, path)) fail(path, ": missing (every AnnData has one)")
  if (!is_group(f, path)) fail(path, ": a pre-0.7 compound dataframe is not supported by this driver")
  g <- f[[path]]
  if (encoding_of(g) != "dataframe") fail(path, " (encoding ", encoding_of(g), "): expected a dataframe")
  index_name <- attr_string(g, "_index")
  if (is.null(index_name)) fail(path, ": dataframe without an _index attribute")
  index <- read_column(f, path, index_name)
  index <- if (is.factor(index)) as.character(index) else if (is.character(index)) index else number_text(as.double(index))
  order <- attr_strings(g, "column-order")
  columns <- list()
  for (name in order) {
    col <- read_column(f, path, name)
    if (length(col) != length(index)) fail(path, "/", name, ": ", length(col), " rows, the index has ", length(index))
    columns[[length(columns) + 1]] <- col
  }
  names(columns) <- order
  list(index = index, columns = columns)
}

# A data.frame built directly (no as.data.frame(): it would rename or convert columns).
as_data_frame <- function(frame, row_names) {
  n <- length(frame$index)
  structure(frame$columns, names = names(frame$columns), class = "data.frame",
            row.names = if (!is.null(row_names)) row_names else .set_row_names(n))
}

# ------------------------------------------------------------------------------ the mapping

default_inputs <- function(f) {
  inputs <- list(latent_space = "obsm/X_latent")
  if (h5_exists(f, "X")) inputs$gene_expression <- "X"
  for (d in 1:3) {
    key <- sprintf("obsm/X_umap_%dd", d)
    if (h5_exists(f, key)) inputs[[sprintf("X_umap_%dd", d)]] <- key
  }
  if (h5_exists(f, "obsp/connectivities")) {
    inputs$connectivities <- "obsp/connectivities"
  } else if (h5_exists(f, "uns/neighbors/connectivities")) {
    inputs$connectivities <- "uns/neighbors/connectivities"
  }
  inputs
}

check_location <- function(what, location, arg) {
  if (!is.character(location) || length(location) != 1) fail("inputs.", what, ": location must be a string")
  slot <- sub("/.*", "", location)
  key <- if (grepl("/", location, fixed = TRUE)) sub("^[^/]*/", "", location) else ""
  ok <- (location == "X" && arg == "gene_expression") ||
    (slot == "layers" && nzchar(key) && arg == "gene_expression") ||
    (slot %in% c("obsm", "obsp") && nzchar(key)) ||
    (location == "uns/neighbors/connectivities" && arg == "connectivities")
  if (!ok) fail("inputs.", what, ": unsupported location '", location, "' (use X, layers/<key>, obsm/<key> or obsp/<key>)")
  location
}

resolve <- function(f, location, what, arg) {
  check_location(what, location, arg)
  if (!h5_exists(f, location)) fail("inputs.", what, ": ", location, " not found in the h5ad")
  read_matrix(f, location, obsm_like = startsWith(location, "obsm/"))
}

# uint8 when every categorical obs column fits 255 categories (as `cellucid-bench export`).
auto_categorical_dtype <- function(obs) {
  counts <- vapply(obs, function(col) {
    if (is.factor(col)) length(levels(col))
    else if (is.character(col)) length(unique(col[!is.na(col)]))
    else 0L
  }, numeric(1))
  if (all(counts <= 255)) "uint8" else "uint16"
}

id_from_stem <- function(stem) {
  chars <- strsplit(enc2utf8(stem), "")[[1]]
  chars[!grepl("^[A-Za-z0-9._-]$", chars)] <- "-"
  id <- sub("\\.+$", "", paste(chars, collapse = ""))
  if (!grepl("^[A-Za-z0-9]", id)) id <- paste0("d", id)
  substr(id, 1, 180)
}

input_stem <- function(input) {
  base <- basename(input)
  stem <- sub("\\.[^.]*$", "", base)
  if (!nzchar(stem)) base else stem
}

# Everything cellucid_prepare() gets from INPUT.h5ad + PARAMS.json.
prepare_args <- function(input, out_dir, params) {
  f <- tryCatch(H5File$new(input, mode = "r"), error = function(e) fail("cannot open ", input, ": ", conditionMessage(e)))
  on.exit(f$close_all())
  inputs <- if ("inputs" %in% names(params)) params$inputs else default_inputs(f)
  if (!is.list(inputs) || (length(inputs) && is.null(names(inputs)))) fail("PARAMS.json: inputs must be an object")

  obs_frame <- read_frame(f, "obs")
  obs <- as_data_frame(obs_frame, NULL)
  args <- list()
  for (arg in names(inputs)) {
    location <- inputs[[arg]]
    if (is.null(location)) next
    if (arg %in% ARRAY_INPUTS) {
      args[[arg]] <- resolve(f, location, arg, arg)
    } else if (arg == "vector_fields") {
      if (!is.list(location) || (length(location) && is.null(names(location)))) {
        fail("inputs.vector_fields must be an object {field_key: location}")
      }
      args$vector_fields <- lapply(names(location), function(k) resolve(f, location[[k]], paste0("vector_fields.", k), "vector_fields"))
      names(args$vector_fields) <- enc_utf8(names(location))
    } else {
      fail("inputs: unknown prepare() array argument '", arg, "'")
    }
  }
  args$obs <- obs
  if (!is.null(args$gene_expression)) {
    var_frame <- read_frame(f, "var")
    ids <- var_frame$index
    unique_ids <- !anyNA(ids) && !anyDuplicated(ids)
    args$var <- as_data_frame(var_frame, if (unique_ids) ids else NULL)
    if (nrow(args$var) != ncol(args$gene_expression) || nrow(obs) != nrow(args$gene_expression)) {
      fail(inputs$gene_expression, ": shape ", nrow(args$gene_expression), " x ", ncol(args$gene_expression),
           " disagrees with obs (", nrow(obs), " rows) and var (", nrow(args$var), " rows)")
    }
  }
  for (name in setdiff(names(params), "inputs")) {
    # `args[name] <- list(NULL)` keeps an explicit NULL (`args[[name]] <- NULL` would drop it).
    args[name] <- list(param_value(name, params[[name]]))
  }
  stem <- input_stem(input)
  if (!("obs_categorical_dtype" %in% names(params))) args$obs_categorical_dtype <- auto_categorical_dtype(obs)
  if (!("dataset_name" %in% names(params))) args$dataset_name <- enc_utf8(stem)
  if (!("dataset_id" %in% names(params))) args$dataset_id <- id_from_stem(stem)
  args$out_dir <- out_dir
  args
}

# ------------------------------------------------------------------------------ recording stand-in

json_doubles <- function(x) {
  text <- sprintf("%.17g", x)
  text[is.na(x)] <- "null"
  text[is.nan(x)] <- "\"NaN\""
  text[x == Inf & !is.na(x)] <- "\"Inf\""
  text[x == -Inf & !is.na(x)] <- "\"-Inf\""
  structure(paste0("[", paste(text, collapse = ","), "]"), class = "json")
}

json_vector <- function(x) {
  if (is.double(x)) return(json_doubles(as.vector(x)))
  structure(as.character(toJSON(as.vector(x), na = "null")), class = "json")
}

encode <- function(x) {
  if (is.null(x)) return(list(type = unbox("NULL")))
  if (methods::is(x, "dgCMatrix")) {
    return(list(type = unbox("dgCMatrix"), dim = x@Dim, i = x@i, p = x@p, x = json_doubles(x@x)))
  }
  if (is.matrix(x)) {
    return(list(type = unbox("matrix"), storage = unbox(typeof(x)), dim = dim(x), values = json_vector(x)))
  }
  if (is.data.frame(x)) {
    rn <- attr(x, "row.names")
    columns <- lapply(names(x), function(n) {
      list(name = unbox(n), class = unbox(class(x[[n]])[[1]]), value = encode(x[[n]]))
    })
    return(list(type = unbox("data.frame"), nrow = unbox(nrow(x)),
                row_names = if (is.character(rn)) rn else NULL, columns = columns))
  }
  if (is.factor(x)) {
    return(list(type = unbox("factor"), levels = levels(x), codes = json_vector(as.integer(x))))
  }
  if (is.list(x)) {
    return(list(type = unbox("list"), names = names(x), values = unname(lapply(x, encode))))
  }
  list(type = unbox(typeof(x)), values = json_vector(x))
}

record_prepare <- function(path, args) {
  doc <- list(`function` = unbox("cellucid::cellucid_prepare"), args = lapply(args, encode))
  text <- toJSON(doc, json_verbatim = TRUE, null = "null", na = "null", digits = NA)
  con <- file(path, open = "wb")
  on.exit(close(con))
  writeBin(charToRaw(enc2utf8(as.character(text))), con)
}

# ------------------------------------------------------------------------------ main

one_line <- function(text) {
  parts <- trimws(strsplit(text, "\n", fixed = TRUE)[[1]])
  parts <- parts[nzchar(parts)]
  if (length(parts)) paste(parts, collapse = " | ") else "(no message)"
}

run_prepare <- function(args) {
  if (!requireNamespace("cellucid", quietly = TRUE)) {
    fail("the R package cellucid (cellucid-r) is not installed; see the README section 'cellucid-r as a writer'")
  }
  target <- path.expand(args$out_dir)
  lock <- file.path(dirname(target), paste0(".", basename(target), ".cellucid.lock"))
  lock_existed <- file.exists(lock) || !is.na(Sys.readlink(lock)) && nzchar(Sys.readlink(lock))
  on.exit({
    if (!lock_existed && file.exists(lock) && !nzchar(Sys.readlink(lock)) && !dir.exists(lock)) unlink(lock)
  })
  sink_file <- file(nullfile(), open = "w")
  sink(sink_file)
  sink(sink_file, type = "message")
  on.exit({
    sink(type = "message")
    sink()
    close(sink_file)
  }, add = TRUE, after = FALSE)
  suppressWarnings(do.call(cellucid::cellucid_prepare, args))
}

main <- function(argv) {
  cli <- tryCatch(parse_args(argv), usage_error = function(e) {
    cat("error: ", one_line(conditionMessage(e)), "\n", sep = "", file = stderr())
    quit(save = "no", status = 2)
  })
  status <- tryCatch({
    params <- load_params(cli$params)
    args <- prepare_args(cli$input, cli$out_dir, params)
    record <- Sys.getenv("CELLUCID_R_RECORD", "")
    if (nzchar(record)) record_prepare(record, args) else run_prepare(args)
    0L
  }, error = function(e) {
    cat("error: ", one_line(conditionMessage(e)), "\n", sep = "", file = stderr())
    1L
  })
  quit(save = "no", status = status)
}

main(commandArgs(trailingOnly = TRUE))
