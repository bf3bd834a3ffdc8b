module github.com/migrate-chat/migrate

go 1.26

require github.com/santhosh-tekuri/jsonschema/v5 v5.3.1
